/**
 * Export and import of whole documents: the state an export renders, with
 * the version it is tagged with, and the first edit of an imported
 * document. Conversions between formats live in `content/`; this module
 * decides which state is current and how imported content gets stored.
 */
import * as Y from 'yjs'
import type {
  ContentRenderer,
  ConvertedImport,
  ImportConverter,
  RenderFormat,
} from '../content/index.js'
import type { Logger } from '../log/index.js'
import type { RoomManager } from '../room/index.js'
import {
  loadStateAt,
  loadStateParts,
  readHistoryPrunedSeq,
  readLastSeq,
  type SqlClient,
} from '../store/index.js'

/**
 * Longest an export waits for edits this node holds to be stored before it
 * reads the stored state anyway, ms.
 */
export const EXPORT_SETTLE_TIMEOUT_MS = 2_000

/**
 * How long a rendered export is kept, ms: a version never changes, so the
 * same (document, version, format) asked again, by the same person
 * clicking twice or by several at once, costs no second rendering.
 */
export const EXPORT_CACHE_MS = 60_000

/** Most bytes (UTF-16 units) of rendered exports kept at once. */
const EXPORT_CACHE_MAX_CHARS = 32 * 1024 * 1024

/** Options of `createDocumentTransfer`. */
export interface DocumentTransferOptions {
  /** The document store's database; not closed by the service. */
  readonly sql: SqlClient
  /** This node's rooms: live edits to wait for, and where imports are applied. */
  readonly rooms: RoomManager
  readonly logger: Logger
  /** Parses imported files off the event loop; the service does not close it. */
  readonly converter: ImportConverter
  /** Renders exports off the event loop; the service does not close it. */
  readonly renderer: ContentRenderer
  /** How long a rendered export is kept for the same request, ms. @default EXPORT_CACHE_MS */
  readonly exportCacheMs?: number
  /** See `EXPORT_SETTLE_TIMEOUT_MS`. @default EXPORT_SETTLE_TIMEOUT_MS */
  readonly settleTimeoutMs?: number
  /**
   * Largest imported document, as the encoded update, bytes: the node's
   * `--max-document-bytes`, which would refuse any later edit adding to a
   * document over it. @default no limit
   */
  readonly maxDocumentBytes?: number
}

/** What `applyImport` did. */
export type ImportOutcome =
  { readonly reason: 'stored' } | { readonly reason: 'too-large'; readonly maxBytes: number }

/** The state of a document at a version, as one Yjs update. */
export interface VersionedState {
  /** The seq of the last update the state includes: the export's ETag. */
  readonly version: number
  readonly state: Uint8Array
}

/** Export and import of whole documents. */
export interface DocumentTransfer {
  /**
   * The document's current version: the seq of its latest stored update,
   * read after the edits this node's room of it has already applied are
   * stored (waiting at most `settleTimeoutMs`), so an export right after
   * someone typed includes it. Null for a document that has no row.
   */
  currentVersion(docId: string): Promise<number | null>
  /** The seq of the latest stored update, without waiting for anything; null as above. */
  storedVersion(docId: string): Promise<number | null>
  /**
   * The stored state right after update `seq` (the latest checkpoint at or
   * before it plus the log); null when the log does not reach that far or
   * history retention removed what rebuilding it needs.
   */
  stateAt(docId: string, seq: number): Promise<VersionedState | null>
  /** Whether history retention removed the updates at or before `seq` (0: none removed). */
  isPruned(docId: string, seq: number): Promise<boolean>
  /**
   * The document at `version` in `format` (HTML: the fragment), rendered in
   * the renderer's worker, or taken from the cache when the same was
   * rendered less than `exportCacheMs` ago (or is being rendered now).
   * Null when the state at `version` cannot be rebuilt. Rejects with the
   * renderer's `WorkerPoolError` (busy, too slow).
   */
  render(docId: string, version: number, format: RenderFormat): Promise<string | null>
  /**
   * Parses an imported file through the document schema in the converter's
   * worker. Rejects with `ContentError` for the file's faults.
   */
  convertImport(format: 'html' | 'markdown', content: string): Promise<ConvertedImport>
  /**
   * Applies `update` (from `htmlToUpdate`/`markdownToUpdate`) to a newly
   * created document as an edit by `userId`, through its room, so it is
   * stored once, attributed, and relayed to anyone who already opened it.
   * Resolves once it is durable, or with `too-large` (nothing applied) when
   * it is over `maxDocumentBytes`; rejects when it cannot be stored.
   */
  applyImport(docId: string, update: Uint8Array, userId: string): Promise<ImportOutcome>
}

/** Creates the service; it holds nothing that needs closing. */
export const createDocumentTransfer = (options: DocumentTransferOptions): DocumentTransfer => {
  const { sql, rooms, logger, converter, renderer } = options
  const settleTimeoutMs = options.settleTimeoutMs ?? EXPORT_SETTLE_TIMEOUT_MS
  const cache = new ExportCache(options.exportCacheMs ?? EXPORT_CACHE_MS)
  return {
    async currentVersion(docId) {
      const settled = await settleWithin(rooms.whenEditsStored(docId), settleTimeoutMs)
      if (!settled) {
        // The store is slow; the export is the stored state without the
        // newest edits, tagged with its own version, so it is still exact.
        logger.warn({ docId, timeoutMs: settleTimeoutMs }, 'export did not wait for unsaved edits')
      }
      return readLastSeq(sql, docId)
    },
    storedVersion: (docId) => readLastSeq(sql, docId),
    isPruned: async (docId, seq) => seq <= (await readHistoryPrunedSeq(sql, docId)),
    async stateAt(docId, seq) {
      const state = await loadStateAt(sql, docId, seq)
      return state === null ? null : { version: seq, state }
    },
    render: (docId, version, format) =>
      cache.get(`${docId}\u0000${version}\u0000${format}`, async () => {
        // The rows only: merging them costs time in proportion to the
        // document, which the worker spends instead of the node's thread.
        const parts = await loadStateParts(sql, docId, version)
        return parts === null ? null : renderer.render(format, parts)
      }),
    convertImport: (format, content) => converter.convert(format, content),
    async applyImport(docId, update, userId) {
      const maxBytes = options.maxDocumentBytes
      if (maxBytes !== undefined && update.byteLength > maxBytes) {
        return { reason: 'too-large', maxBytes }
      }
      // One server edit, stored once as the document's first update: every
      // client gets the content through sync, once, whenever it opens it
      // (a client seeding content itself could add it twice).
      await rooms.applyServerEdit(docId, (doc) => Y.applyUpdate(doc, update), {
        userId,
        connId: null,
      })
      return { reason: 'stored' }
    },
  }
}

/** Whether `promise` settled within `timeoutMs`. */
const settleWithin = async (promise: Promise<unknown>, timeoutMs: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([promise.then(() => true), timedOut])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Renderings by key for `ttlMs`, oldest dropped first past
 * `EXPORT_CACHE_MAX_CHARS`; a rendering in progress is shared by everyone
 * asking for it, and a failed one is not kept.
 */
class ExportCache {
  readonly #entries = new Map<string, CacheEntry>()
  #chars = 0

  constructor(readonly ttlMs: number) {}

  get(key: string, render: () => Promise<string | null>): Promise<string | null> {
    const now = Date.now()
    this.#expire(now)
    const cached = this.#entries.get(key)
    if (cached !== undefined) return cached.value
    const entry: CacheEntry = { at: now, value: render(), chars: 0 }
    this.#entries.set(key, entry)
    entry.value.then(
      (text) => {
        if (this.#entries.get(key) !== entry) return
        if (text === null || this.ttlMs === 0) {
          this.#entries.delete(key)
          return
        }
        entry.chars = text.length
        this.#chars += text.length
        this.#trim()
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key)
      },
    )
    return entry.value
  }

  #trim(): void {
    // Map order is insertion order: the first entries are the oldest.
    for (const [key, entry] of this.#entries) {
      if (this.#chars <= EXPORT_CACHE_MAX_CHARS) break
      this.#drop(key, entry)
    }
  }

  #expire(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.at < this.ttlMs) break
      this.#drop(key, entry)
    }
  }

  #drop(key: string, entry: CacheEntry): void {
    this.#entries.delete(key)
    this.#chars -= entry.chars
  }
}

interface CacheEntry {
  readonly at: number
  readonly value: Promise<string | null>
  /** Counted once the rendering is done. */
  chars: number
}
