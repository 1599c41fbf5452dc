/**
 * Imports converted off the event loop. Parsing a file of up to
 * `MAX_IMPORT_BYTES` through happy-dom or marked takes from a fraction of a
 * second to many seconds of CPU; on the node's own thread every socket it
 * serves would wait that long. One worker thread does it instead, one file
 * at a time behind a short queue, and is stopped after a while without work.
 */
import type { Logger } from 'pino'
import { ContentError, type ContentErrorCode } from './content-error.js'
import type { ContentTask, ImportResult } from './conversion-worker.js'
import { MAX_IMPORT_BYTES } from './document-import.js'
import { createWorkerPool, isWorkerPoolError, siblingEntry } from './worker-pool.js'

/**
 * Most nodes and marks an imported document may have. Applying, storing,
 * loading and rendering run on a node's thread in time proportional to
 * them: 25,000 apply in about 100 ms on a loaded 2-core machine, while a
 * 1 MiB Markdown table or run of emphasis gives ten times that. A 100-page
 * report is around 5,000.
 */
export const MAX_IMPORT_NODES = 25_000

/** Options of `createImportConverter`. */
export interface ImportConverterOptions {
  /** Receives a crashed worker's error. */
  readonly logger: Logger
  /** Largest file accepted, UTF-8 bytes. @default MAX_IMPORT_BYTES */
  readonly maxBytes?: number
  /** See `MAX_IMPORT_NODES`. @default MAX_IMPORT_NODES */
  readonly maxNodes?: number
  /**
   * Longest one conversion may take, ms; past it the worker is stopped and
   * the import refused with `CONTENT_TOO_COMPLEX`. It is also how long
   * everyone else's imports may wait behind one file. 1 MiB of ordinary
   * prose parses in about 1 s on a loaded 2-core machine; Markdown's
   * pathological inputs (`_a` repeated: 30 s and more) and, since marked's
   * lexer grows faster than linearly with the number of blocks, 1 MiB of
   * 30,000 one-line paragraphs (about 45 s) do not fit. @default 5000
   */
  readonly timeoutMs?: number
  /** Most conversions waiting behind the running one; more are refused (`WORKER_BUSY`). @default 4 */
  readonly maxQueued?: number
  /** How long the worker is kept without work, ms. @default 60000 */
  readonly idleMs?: number
}

/** Defaults of `ImportConverterOptions`. */
export const DEFAULT_IMPORT_CONVERTER_OPTIONS = Object.freeze({
  maxBytes: MAX_IMPORT_BYTES,
  maxNodes: MAX_IMPORT_NODES,
  timeoutMs: 5_000,
  maxQueued: 4,
  idleMs: 60_000,
})

/** A converted import: the update for an empty document, and its first heading. */
export type ConvertedImport = ImportResult

/** Converts imported files in a worker thread. */
export interface ImportConverter {
  /**
   * Parses `content` through the document schema (as `htmlToUpdate` and
   * `markdownToUpdate`). Rejects with `ContentError` for the file's faults
   * (`CONTENT_TOO_LARGE`, `CONTENT_UNPARSABLE`, `CONTENT_TOO_COMPLEX`, …);
   * with `WorkerPoolError` `WORKER_BUSY` when `maxQueued` files already
   * wait, `WORKER_FAILED` when the worker failed.
   */
  convert(format: 'html' | 'markdown', content: string): Promise<ConvertedImport>
  /** Stops the worker; later calls start a new one. */
  close(): Promise<void>
}

/** Creates a converter; its worker starts on the first conversion. */
export const createImportConverter = (options: ImportConverterOptions): ImportConverter => {
  const { maxBytes, maxNodes, timeoutMs, maxQueued, idleMs } = {
    ...DEFAULT_IMPORT_CONVERTER_OPTIONS,
    ...options,
  }
  const pool = createWorkerPool<ContentTask, ImportResult>({
    entry: siblingEntry(import.meta.url, 'conversion-worker'),
    logger: options.logger,
    timeoutMs,
    maxQueued,
    idleMs,
    toError: ({ code, message }) => new ContentError(code as ContentErrorCode, message),
  })
  return {
    async convert(format, content) {
      try {
        return await pool.run({ kind: 'import', format, content, maxBytes, maxNodes })
      } catch (err) {
        if (isWorkerPoolError(err, 'WORKER_TIMEOUT')) {
          throw new ContentError('CONTENT_TOO_COMPLEX', `conversion took over ${timeoutMs} ms`)
        }
        // WORKER_BUSY (the queue is full) and failures go to the caller as they are.
        throw err
      }
    },
    close: () => pool.close(),
  }
}
