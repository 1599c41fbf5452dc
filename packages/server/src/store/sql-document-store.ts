/**
 * `DocumentStore` on SQL: the group-commit writer, the compactor and the
 * loader over one `SqlClient`, plus the two factories `main.ts` chooses
 * between: embedded PostgreSQL (PGlite) in the data folder, or a PostgreSQL
 * server by URL. Both run the same SQL.
 */
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { CheckpointRenderer } from './checkpoint-html.js'
import type { StateMerger } from './history.js'
import { type CompactionResult, createCompactor, DEFAULT_COMPACTOR_OPTIONS } from './compactor.js'
import type { DocumentStore, StoredDocument, UpdateRecord } from './document-store.js'
import { migrate } from './migrations.js'
import { createPgClient } from './pg-client.js'
import { openPgliteClient } from './pglite-client.js'
import type { SqlClient } from './sql-client.js'
import { isStoreError, StoreError } from './store-error.js'
import { createUpdateWriter, DEFAULT_UPDATE_WRITER_OPTIONS } from './update-writer.js'

/** Tuning of a SQL document store; every field has a default. */
export interface SqlDocumentStoreTuning {
  /** Most records in one write transaction. @default 512 */
  readonly maxBatchUpdates?: number
  /** Longest an append waits for its batch to close, ms. @default 4 */
  readonly maxBatchDelayMs?: number
  /** Wait before the first retry of a failed batch, ms; doubles per attempt. @default 50 */
  readonly retryInitialDelayMs?: number
  /** Longest wait between retries of a failed batch, ms. @default 5000 */
  readonly retryMaxDelayMs?: number
  /** Compact a document once it has this many updates after its checkpoint. @default 1000 */
  readonly compactAfterUpdates?: number
  /** Compact a written document whose checkpoint is at least this old, ms. @default 300000 */
  readonly compactIntervalMs?: number
  /** Most compactions running at once. @default 1 */
  readonly maxConcurrentCompactions?: number
  /** Receives each committed batch's size and duration, s (metrics). */
  readonly observeBatch?: (updates: number, seconds: number) => void
  /** Told of each update moved to the dead-letter table (metrics). */
  readonly onDeadLetter?: (record: UpdateRecord, err: unknown) => void
  /**
   * Renders each checkpoint compaction builds as HTML, stored beside its
   * state (a failing rendering stores null); without it, no HTML.
   */
  readonly renderCheckpointHtml?: CheckpointRenderer
  /** Merges a checkpoint's parts, e.g. in a worker thread. @default on the node's thread */
  readonly mergeState?: StateMerger
}

/** Options of `createSqlDocumentStore`. */
export interface SqlDocumentStoreOptions extends SqlDocumentStoreTuning {
  /**
   * The database. The store owns it from now on: it closes it on `close()`,
   * or when opening fails.
   */
  readonly client: SqlClient
  /** Receives the store's warnings (failed batches, failed compactions). */
  readonly logger: Logger
}

/** Defaults of `SqlDocumentStoreTuning`, in one place. */
export const DEFAULT_SQL_DOCUMENT_STORE_OPTIONS = Object.freeze({
  maxBatchUpdates: DEFAULT_UPDATE_WRITER_OPTIONS.maxBatchUpdates,
  maxBatchDelayMs: DEFAULT_UPDATE_WRITER_OPTIONS.maxBatchDelayMs,
  retryInitialDelayMs: DEFAULT_UPDATE_WRITER_OPTIONS.retryInitialDelayMs,
  retryMaxDelayMs: DEFAULT_UPDATE_WRITER_OPTIONS.retryMaxDelayMs,
  compactAfterUpdates: DEFAULT_COMPACTOR_OPTIONS.compactAfterUpdates,
  compactIntervalMs: DEFAULT_COMPACTOR_OPTIONS.compactIntervalMs,
  maxConcurrentCompactions: DEFAULT_COMPACTOR_OPTIONS.maxConcurrentCompactions,
})

/** A `DocumentStore` on SQL, with the extras operations and tests use. */
export interface SqlDocumentStore extends DocumentStore {
  /**
   * Builds a checkpoint of `docId` now, off the write path, and resolves
   * with what it did; rejects on a storage failure. For tests and for the
   * room's unload hook.
   */
  compactDocument(docId: string): Promise<CompactionResult>
  /** Appended records not yet committed; backpressure reads it. */
  readonly queuedCount: number
  /**
   * The database the store uses, for the control data that lives beside the
   * documents (accounts, sessions). The store still owns and closes it.
   */
  readonly sql: SqlClient
}

/**
 * Migrates the database to the latest schema, then returns a store on it.
 * Rejects (after closing the client) when the migration fails.
 */
export const createSqlDocumentStore = async (
  options: SqlDocumentStoreOptions,
): Promise<SqlDocumentStore> => {
  const { client, logger } = options
  try {
    await migrate(client)
  } catch (err) {
    await client.close().catch((closeErr: unknown) => {
      logger.warn({ err: closeErr }, 'database close failed')
    })
    throw err
  }

  const compactor = createCompactor({
    ...options,
    client,
    logger,
    renderHtml: options.renderCheckpointHtml,
  })
  const writer = createUpdateWriter({
    ...options,
    onBatchCommitted: (documents) => compactor.handleCommitted(documents),
  })
  let closing: Promise<void> | null = null
  const rejectClosed = (): Promise<never> =>
    Promise.reject(new StoreError('STORE_CLOSED', 'the document store is closed'))

  return {
    loadDocument: (docId) => (closing === null ? loadDocument(client, docId) : rejectClosed()),
    appendUpdate: (record) => writer.appendUpdate(record),
    async checkHealth() {
      if (closing !== null) return rejectClosed()
      await client.query('SELECT 1')
    },
    flush: () => writer.flush(),
    compactDocument: (docId) => compactor.compactDocument(docId),
    sql: client,
    get queuedCount() {
      return writer.queuedCount
    },
    close() {
      closing ??= (async () => {
        await writer.close()
        await compactor.close()
        await client.close()
      })()
      return closing
    },
  }
}

const EMPTY_DOCUMENT: StoredDocument = Object.freeze({
  checkpoint: null,
  checkpointSeq: 0,
  updates: Object.freeze([]),
  lastSeq: 0,
})

/**
 * Reads the latest checkpoint (named or not: any full state is a valid
 * base) and the committed updates after it. `lastSeq` is read in the same
 * statement as the checkpoint, and the tail is bounded by it, so the result
 * is consistent even while batches commit: every seq up to `lastSeq` was
 * committed with it. A document never written loads as empty; any failure
 * rejects with `STORE_LOAD_FAILED`.
 */
const loadDocument = async (client: SqlClient, docId: string): Promise<StoredDocument> => {
  try {
    const [head] = await client.query<{
      lastSeq: number
      checkpointSeq: number | null
      state: Uint8Array | null
    }>(
      `SELECT d.last_seq AS "lastSeq", c.seq AS "checkpointSeq", c.state
         FROM documents d
         LEFT JOIN LATERAL (
           SELECT seq, state FROM checkpoints
            WHERE doc_id = d.id ORDER BY seq DESC, id DESC LIMIT 1
         ) c ON true
        WHERE d.id = $1`,
      [docId],
    )
    if (head === undefined) return EMPTY_DOCUMENT

    const checkpointSeq = head.checkpointSeq ?? 0
    const updates =
      head.lastSeq > checkpointSeq
        ? await loadUpdatesAfter(client, docId, checkpointSeq, head.lastSeq)
        : []
    if (updates.length !== Math.max(head.lastSeq - checkpointSeq, 0)) {
      throw new StoreError(
        'STORE_LOG_GAP',
        `update log of ${docId} has ${updates.length} rows in (${checkpointSeq}, ${head.lastSeq}]`,
      )
    }
    return { checkpoint: head.state, checkpointSeq, updates, lastSeq: head.lastSeq }
  } catch (err) {
    if (isStoreError(err)) throw err
    throw new StoreError('STORE_LOAD_FAILED', `loading document ${docId} failed`, { cause: err })
  }
}

/** Updates per page of a loaded log: one row of the load query, one bytea of them all. */
const LOAD_PAGE_UPDATES = 8192

/**
 * The updates of `docId` in (`afterSeq`, `lastSeq`], in order, read in one
 * statement as pages: each row carries a page's updates concatenated in one
 * bytea, with their lengths. Decoding one value per update is what a long
 * history costs to load: 20,000 rows took about 270 ms in PGlite and about
 * 120 ms as three pages (bench/results/compare-analysis.md). Each update is
 * copied out of its page into a buffer of its own (lib0's decoders bound
 * lengths by the underlying buffer, not the view).
 */
const loadUpdatesAfter = async (
  client: SqlClient,
  docId: string,
  afterSeq: number,
  lastSeq: number,
): Promise<Uint8Array[]> => {
  const pages = await client.query<{ lengths: number[]; bytes: Uint8Array }>(
    `SELECT array_agg(length(data) ORDER BY seq) AS lengths,
            string_agg(data, ''::bytea ORDER BY seq) AS bytes
       FROM updates WHERE doc_id = $1 AND seq > $2 AND seq <= $3
      GROUP BY (seq - $2 - 1) / $4 ORDER BY (seq - $2 - 1) / $4`,
    [docId, afterSeq, lastSeq, LOAD_PAGE_UPDATES],
  )
  const updates: Uint8Array[] = []
  for (const { lengths, bytes } of pages) {
    let offset = 0
    for (const length of lengths) {
      updates.push(bytes.slice(offset, offset + length))
      offset += length
    }
    if (offset !== bytes.length) {
      throw new Error(`page of ${docId} holds ${bytes.length} bytes, its lengths ${offset}`)
    }
  }
  return updates
}

/** Options of `openEmbeddedStore`. */
export interface EmbeddedStoreOptions extends SqlDocumentStoreTuning {
  /** Quire's data folder; the database lives in its `pglite` subfolder, created when missing. */
  readonly dataDir: string
  readonly logger: Logger
}

/**
 * Opens the embedded store: PGlite in `<dataDir>/pglite`, migrated. The
 * caller owns the store and must `close()` it. One process per folder (see
 * `openPgliteClient`).
 */
export const openEmbeddedStore = async (
  options: EmbeddedStoreOptions,
): Promise<SqlDocumentStore> => {
  const { dataDir, ...rest } = options
  const client = await openPgliteClient({ directory: join(dataDir, 'pglite') })
  return createSqlDocumentStore({ ...rest, client })
}

/** Options of `openPostgresStore`. */
export interface PostgresStoreOptions extends SqlDocumentStoreTuning {
  /** PostgreSQL connection string. */
  readonly databaseUrl: string
  readonly logger: Logger
  /** Most pooled connections. @default 10 */
  readonly maxConnections?: number
}

/**
 * Opens the store on a PostgreSQL server and migrates it (safe when several
 * nodes start at once). The caller owns the store and must `close()` it.
 * Rejects when the server cannot be reached or the migration fails.
 */
export const openPostgresStore = async (
  options: PostgresStoreOptions,
): Promise<SqlDocumentStore> => {
  const { databaseUrl, maxConnections, ...rest } = options
  const client = createPgClient({
    connectionString: databaseUrl,
    maxConnections,
    logger: options.logger,
  })
  return createSqlDocumentStore({ ...rest, client })
}
