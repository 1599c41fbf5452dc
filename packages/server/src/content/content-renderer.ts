/**
 * Documents rendered off the event loop: exports and the HTML stored with
 * checkpoints and named versions. Rendering a large document takes seconds
 * of CPU (a 1 MiB table: 19 s as Markdown, 12 s as HTML); on the node's own
 * thread every other document it serves would stall that long. One worker
 * thread renders instead, one document at a time behind a short queue, with
 * a time limit.
 */
import type { Logger } from 'pino'
import { ContentError, type ContentErrorCode } from './content-error.js'
import type { ContentTask, MergeResult, RenderFormat } from './conversion-worker.js'
import { createWorkerPool, siblingEntry } from './worker-pool.js'

export type { MergeResult, RenderFormat }

/** Options of `createContentRenderer`. */
export interface ContentRendererOptions {
  /** Receives a crashed worker's error. */
  readonly logger: Logger
  /**
   * Longest one rendering may take, ms; past it the worker is stopped and
   * the call rejects with `WorkerPoolError` `WORKER_TIMEOUT`. @default 10000
   */
  readonly timeoutMs?: number
  /**
   * Most renderings waiting behind the running one; more reject with
   * `WORKER_BUSY`. @default 8
   */
  readonly maxQueued?: number
  /** How long the worker is kept without work, ms. @default 60000 */
  readonly idleMs?: number
}

/** Defaults of `ContentRendererOptions`. */
export const DEFAULT_CONTENT_RENDERER_OPTIONS = Object.freeze({
  timeoutMs: 10_000,
  maxQueued: 8,
  idleMs: 60_000,
})

/** Renders documents in a worker thread. */
export interface ContentRenderer {
  /**
   * The document built from `parts` (Yjs updates applied in order: one
   * state, or a checkpoint and the log after it) in `format` (HTML: the
   * fragment, as `docToHtml`). Rejects with `WorkerPoolError` when busy,
   * past the time limit, or when the worker failed.
   */
  render(format: RenderFormat, parts: readonly Uint8Array[]): Promise<string>
  /**
   * `parts` merged into one Yjs update, with its state vector, in a
   * document with garbage collection `gc` (as the store's
   * `mergeStateParts`); rejects as `render`.
   */
  merge(parts: readonly Uint8Array[], options: { readonly gc: boolean }): Promise<MergeResult>
  /** Tasks waiting and running. */
  readonly pendingCount: number
  /** Stops the worker; later calls start a new one. */
  close(): Promise<void>
}

/** Creates a renderer; its worker starts on the first rendering. */
export const createContentRenderer = (options: ContentRendererOptions): ContentRenderer => {
  const { timeoutMs, maxQueued, idleMs } = { ...DEFAULT_CONTENT_RENDERER_OPTIONS, ...options }
  const pool = createWorkerPool<ContentTask, string | MergeResult>({
    entry: siblingEntry(import.meta.url, 'conversion-worker'),
    logger: options.logger,
    // Failures the worker reports on purpose are the document's (CONTENT_TOO_DEEP).
    toError: ({ code, message }) => new ContentError(code as ContentErrorCode, message),
    timeoutMs,
    maxQueued,
    idleMs,
  })
  return {
    // Parts are copied, not moved: callers may still hold them.
    render: async (format, parts) => (await pool.run({ kind: 'render', format, parts })) as string,
    merge: async (parts, { gc }) => (await pool.run({ kind: 'merge', parts, gc })) as MergeResult,
    get pendingCount() {
      return pool.pendingCount
    },
    close: () => pool.close(),
  }
}
