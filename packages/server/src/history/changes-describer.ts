/**
 * Comparisons of versions described off the event loop: replaying up to
 * `MAX_ATTRIBUTION_UPDATES` updates and serialising a large document's
 * changes takes seconds of CPU for a large document, during which every
 * other document on the node would wait. One worker thread does it, one
 * comparison at a time behind a short queue, with a time limit.
 */
import {
  ContentError,
  type ContentErrorCode,
  createWorkerPool,
  siblingEntry,
} from '../content/index.js'
import type { Logger } from '../log/index.js'
import type { HistoryWindow } from '../store/index.js'
import type { ChangesTask } from './changes-worker.js'

/**
 * Describes the changes in `window` up to `seq` (since `since`) as the JSON
 * of `DocumentChanges`. Rejects with `WorkerPoolError` (busy, too slow) or
 * the `ContentError` the description failed with (`CONTENT_TOO_DEEP`).
 */
export type ChangesDescriber = (
  window: HistoryWindow,
  seq: number,
  since: number | null,
) => Promise<string>

/** Options of `createChangesDescriber`. */
export interface ChangesDescriberOptions {
  readonly logger: Logger
  /** Longest one comparison may take, ms. @default 10000 */
  readonly timeoutMs?: number
  /** Most comparisons waiting behind the running one. @default 4 */
  readonly maxQueued?: number
}

/**
 * Computes the update of a restore (`computeRestoreUpdate`) from the parts
 * of the current and the old state. Rejects as `ChangesDescriber`, and with
 * `CONTENT_TOO_COMPLEX` past `MAX_RESTORED_BLOCKS`.
 */
export type RestoreComputer = (
  currentParts: readonly Uint8Array[],
  oldParts: readonly Uint8Array[],
) => Promise<Uint8Array>

/** A describer (and restore computer) in its own worker thread, and how to stop it. */
export const createChangesDescriber = (
  options: ChangesDescriberOptions,
): {
  readonly describe: ChangesDescriber
  readonly computeRestore: RestoreComputer
  close(): Promise<void>
} => {
  const pool = createWorkerPool<ChangesTask, string | Uint8Array>({
    entry: siblingEntry(import.meta.url, 'changes-worker'),
    logger: options.logger,
    // Failures the worker reports on purpose are the document's (CONTENT_TOO_DEEP).
    toError: ({ code, message }) => new ContentError(code as ContentErrorCode, message),
    timeoutMs: options.timeoutMs ?? 10_000,
    maxQueued: options.maxQueued ?? 4,
  })
  return {
    describe: async (window, seq, since) =>
      (await pool.run({ kind: 'changes', window, seq, since })) as string,
    computeRestore: async (currentParts, oldParts) =>
      (await pool.run({ kind: 'restore', currentParts, oldParts })) as Uint8Array,
    close: () => pool.close(),
  }
}
