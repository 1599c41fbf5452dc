/**
 * The worker thread of `createChangesDescriber`: replays a stretch of a
 * document's history and describes who wrote what (`describeChanges`), then
 * serialises the answer, both off the node's event loop. Loaded only as a
 * worker, never imported.
 */
import { isContentError, serveWorkerTasks } from '../content/index.js'
import type { HistoryWindow } from '../store/index.js'
import { describeChanges } from './attribution.js'

/** One comparison to describe. @internal */
export interface ChangesTask {
  readonly window: HistoryWindow
  readonly seq: number
  readonly since: number | null
}

serveWorkerTasks<ChangesTask, string>(async ({ window, seq, since }) => {
  try {
    return { ok: true, result: JSON.stringify(await describeChanges(window, seq, since)) }
  } catch (err) {
    // Rich text nested too deeply to walk (CONTENT_TOO_DEEP): the
    // document's fault, answered 422, not the worker's.
    if (isContentError(err)) return { ok: false, failure: { code: err.code, message: err.message } }
    throw err
  }
})
