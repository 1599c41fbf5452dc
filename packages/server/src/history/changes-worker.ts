/**
 * The worker thread of `createChangesDescriber`: replays a stretch of a
 * document's history and describes who wrote what (`describeChanges`), then
 * serialises the answer, both off the node's event loop. Loaded only as a
 * worker, never imported.
 */
import { isContentError, serveWorkerTasks } from '../content/index.js'
import type { HistoryWindow } from '../store/index.js'
import { describeChanges } from './attribution.js'
import { computeRestoreUpdate } from './restore-content.js'

/** One comparison to describe, or one restore to compute. @internal */
export type ChangesTask =
  | {
      readonly kind: 'changes'
      readonly window: HistoryWindow
      readonly seq: number
      readonly since: number | null
    }
  | {
      readonly kind: 'restore'
      readonly currentParts: readonly Uint8Array[]
      readonly oldParts: readonly Uint8Array[]
    }

serveWorkerTasks<ChangesTask, string | Uint8Array>(async (task) => {
  try {
    if (task.kind === 'restore') {
      const update = computeRestoreUpdate(task.currentParts, task.oldParts)
      return { ok: true, result: update, transfer: [update.buffer as ArrayBuffer] }
    }
    const { window, seq, since } = task
    return { ok: true, result: JSON.stringify(await describeChanges(window, seq, since)) }
  } catch (err) {
    // Rich text nested too deeply to walk (CONTENT_TOO_DEEP): the
    // document's fault, answered 422, not the worker's.
    if (isContentError(err)) return { ok: false, failure: { code: err.code, message: err.message } }
    throw err
  }
})
