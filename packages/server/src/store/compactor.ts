/**
 * Compaction: folding a document's latest checkpoint and the updates after
 * it into a new checkpoint, so loading stays short however long the log
 * grows. It runs off the write path: the writer reports each commit, the
 * compactor decides and queues, and a failing compaction only logs. The log
 * stays the source of truth; a checkpoint can always be rebuilt from it.
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { type CheckpointRenderer, renderCheckpointHtml } from './checkpoint-html.js'
import type { StateMerger } from './history.js'
import { resolveOptions } from './resolve-options.js'
import type { SqlClient } from './sql-client.js'
import { isStoreError, StoreError } from './store-error.js'
import type { CommittedDocument } from './update-batch.js'

/** Options of `createCompactor`. */
export interface CompactorOptions {
  /** Where checkpoints are read and written; the compactor does not close it. */
  readonly client: SqlClient
  /** Receives `compaction failed` warnings and `document compacted` debug lines. */
  readonly logger: Logger
  /** Compact once a document has this many updates after its latest checkpoint. @default 1000 */
  readonly compactAfterUpdates?: number
  /**
   * Compact a document with any updates after its latest checkpoint once this
   * long has passed since that checkpoint (or since the document was
   * created), ms. Checked only when the document is written.
   * @default 300000 (5 minutes)
   */
  readonly compactIntervalMs?: number
  /** Most compactions running at once across all documents. @default 1 */
  readonly maxConcurrentCompactions?: number
  /** Updates read per query while compacting, bounding the rows held at once. @default 1000 */
  readonly readPageUpdates?: number
  /**
   * Renders each new checkpoint as HTML, stored beside its state; a failing
   * rendering stores null. Without it checkpoints carry no HTML.
   */
  readonly renderHtml?: CheckpointRenderer
  /**
   * Merges the checkpoint and the updates after it, e.g. in a worker thread
   * so a large document does not hold the node's. Without it they are
   * applied here, page by page.
   */
  readonly mergeState?: StateMerger
}

/** Defaults of `CompactorOptions`. */
export const DEFAULT_COMPACTOR_OPTIONS = Object.freeze({
  compactAfterUpdates: 1_000,
  compactIntervalMs: 5 * 60_000,
  maxConcurrentCompactions: 1,
  readPageUpdates: 1_000,
})

/** What one compaction did: a new checkpoint, or nothing because none was needed. */
export type CompactionResult =
  | { readonly reason: 'compacted'; readonly seq: number; readonly updateCount: number }
  | { readonly reason: 'up-to-date'; readonly seq: number }

/** Builds checkpoints, triggered by commits or called directly. */
export interface Compactor {
  /** Decides, per committed document, whether a compaction is due, and queues it. Never throws. */
  handleCommitted(documents: readonly CommittedDocument[]): void
  /**
   * Compacts `docId` now (after any compaction of it already running, and
   * within the overall concurrency bound) and resolves with what it did.
   * Rejects with the storage error when it fails, or `StoreError`
   * `STORE_CLOSED` after `close()`.
   */
  compactDocument(docId: string): Promise<CompactionResult>
  /** Starts no more compactions and resolves once the running ones finished. */
  close(): Promise<void>
}

/**
 * Creates a compactor over `options.client`. The caller owns the client and
 * closes it after `close()` resolved.
 *
 * Limit: triggers come only from commits, so a document written once and
 * then left alone keeps its tail until it is written again or compacted
 * directly; a periodic sweep of documents with a stale tail would lift it.
 */
export const createCompactor = (options: CompactorOptions): Compactor =>
  new QueuedCompactor(options)

class QueuedCompactor implements Compactor {
  readonly #options: CompactorOptions & typeof DEFAULT_COMPACTOR_OPTIONS
  /** Tail of each document's chain of compactions: one per document at a time. */
  readonly #chains = new Map<string, Promise<unknown>>()
  /** Documents with a commit-triggered compaction queued or running. */
  readonly #triggered = new Set<string>()
  /** Documents committed again while their triggered compaction ran. */
  readonly #retriggered = new Set<string>()
  readonly #slotWaiters: (() => void)[] = []
  #activeCount = 0
  #isClosed = false

  constructor(options: CompactorOptions) {
    this.#options = resolveOptions(DEFAULT_COMPACTOR_OPTIONS, options)
  }

  handleCommitted(documents: readonly CommittedDocument[]): void {
    for (const document of documents) {
      if (this.#isClosed || !this.#isDue(document)) continue
      const { docId } = document
      if (this.#triggered.has(docId)) {
        // A commit while its compaction runs: that run may have read the log
        // before this commit (or failed), so run once more after it.
        this.#retriggered.add(docId)
        continue
      }
      this.#runTriggered(docId)
    }
  }

  #runTriggered(docId: string): void {
    this.#triggered.add(docId)
    void this.compactDocument(docId)
      .catch((err: unknown) => {
        if (isStoreError(err, 'STORE_CLOSED')) return
        // The next commit of the document triggers it again.
        this.#options.logger.warn({ err, docId }, 'compaction failed')
      })
      .finally(() => {
        this.#triggered.delete(docId)
        if (this.#retriggered.delete(docId) && !this.#isClosed) this.#runTriggered(docId)
      })
  }

  compactDocument(docId: string): Promise<CompactionResult> {
    const previous = this.#chains.get(docId) ?? Promise.resolve()
    const run = previous
      .catch(() => undefined) // the previous run's caller has its failure
      .then(() => this.#withSlot(() => this.#compact(docId)))
    this.#chains.set(docId, run)
    const forget = (): void => {
      if (this.#chains.get(docId) === run) this.#chains.delete(docId)
    }
    run.then(forget, forget)
    return run
  }

  async close(): Promise<void> {
    this.#isClosed = true
    await Promise.allSettled([...this.#chains.values()])
  }

  #isDue(document: CommittedDocument): boolean {
    const pending = document.lastSeq - document.lastCheckpointSeq
    return (
      pending >= this.#options.compactAfterUpdates ||
      (pending > 0 && document.msSinceCheckpoint >= this.#options.compactIntervalMs)
    )
  }

  /** Runs `fn` once fewer than `maxConcurrentCompactions` compactions are running. */
  async #withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#activeCount < this.#options.maxConcurrentCompactions) {
      this.#activeCount++
    } else {
      // release() hands its slot over directly, so the count stays put.
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve))
    }
    try {
      return await fn()
    } finally {
      const next = this.#slotWaiters.shift()
      if (next === undefined) this.#activeCount--
      else next()
    }
  }

  async #compact(docId: string): Promise<CompactionResult> {
    if (this.#isClosed) throw new StoreError('STORE_CLOSED', 'the compactor is closed')
    const startedAt = performance.now()
    const { client } = this.#options

    const [base] = await client.query<{ seq: number; state: Uint8Array }>(
      `SELECT seq, state FROM checkpoints WHERE doc_id = $1 ORDER BY seq DESC, id DESC LIMIT 1`,
      [docId],
    )
    const baseSeq = base?.seq ?? 0
    const built = await this.#buildState(docId, base?.state ?? null, baseSeq)
    if (built === null) return { reason: 'up-to-date', seq: baseSeq }

    await client.transaction(async (tx) => {
      // Another node may have built the same checkpoint meanwhile: keep theirs.
      await tx.query(
        `INSERT INTO checkpoints (doc_id, seq, state, state_vector, html) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (doc_id, seq) WHERE name IS NULL DO NOTHING`,
        [docId, built.seq, built.state, built.stateVector, built.html],
      )
      await tx.query(
        `UPDATE documents
           SET last_checkpoint_seq = GREATEST(last_checkpoint_seq, $2), last_checkpoint_at = now()
           WHERE id = $1`,
        [docId, built.seq],
      )
    })
    const durationMs = Math.round(performance.now() - startedAt)
    const { seq, updateCount } = built
    this.#options.logger.debug({ docId, seq, updateCount, durationMs }, 'document compacted')
    return { reason: 'compacted', seq, updateCount }
  }

  /**
   * Applies the checkpoint and every later update, page by page, into a
   * fresh document and encodes it; null when there is nothing after the
   * checkpoint. Each update is applied with `Y.applyUpdate`, never merged
   * with `Y.mergeUpdates`: merging is several times slower and can spin on
   * crafted run lengths (DESIGN.md, "Yjs facts that bite").
   */
  async #buildState(
    docId: string,
    checkpoint: Uint8Array | null,
    checkpointSeq: number,
  ): Promise<{
    seq: number
    updateCount: number
    state: Uint8Array
    stateVector: Uint8Array
    html: string | null
  } | null> {
    const { mergeState } = this.#options
    // With a merger the rows are only collected here and merged elsewhere;
    // without one they are applied page by page, bounding what is held.
    const parts: Uint8Array[] = checkpoint === null ? [] : [checkpoint]
    const doc = mergeState === undefined ? new Y.Doc() : null
    try {
      if (doc !== null) for (const part of parts.splice(0)) Y.applyUpdate(doc, part)
      let seq = checkpointSeq
      for (;;) {
        const rows = await this.#options.client.query<{ seq: number; data: Uint8Array }>(
          `SELECT seq, data FROM updates WHERE doc_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
          [docId, seq, this.#options.readPageUpdates],
        )
        for (const row of rows) {
          if (row.seq !== seq + 1) {
            throw new StoreError(
              'STORE_LOG_GAP',
              `update log of ${docId} jumps from ${seq} to ${row.seq}`,
            )
          }
          if (doc === null) parts.push(row.data)
          else Y.applyUpdate(doc, row.data)
          seq = row.seq
        }
        if (rows.length < this.#options.readPageUpdates) break
      }
      if (seq === checkpointSeq) return null
      const { state, stateVector } =
        doc === null
          ? await (mergeState as StateMerger)(parts, { gc: true })
          : { state: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
      const { renderHtml, logger } = this.#options
      const html = await renderCheckpointHtml(renderHtml, state, logger, docId)
      return { seq, updateCount: seq - checkpointSeq, state, stateVector, html }
    } finally {
      doc?.destroy()
    }
  }
}
