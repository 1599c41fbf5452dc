/**
 * The HTML rendering stored with each checkpoint (DESIGN.md: a backup
 * readable without Quire). The store does not know the document schema;
 * `main.ts` hands it a renderer built on the content conversions.
 */
import type { Logger } from 'pino'
import type * as Y from 'yjs'

/**
 * Renders a checkpoint's document as HTML; null when it has nothing to show.
 * Called synchronously while the checkpoint is built; must not keep `doc`.
 */
export type CheckpointRenderer = (doc: Y.Doc) => string | null

/**
 * Runs `render` on `doc` and returns its HTML, or null when there is no
 * renderer or it throws: a rendering never makes a checkpoint fail, since
 * the state it is built for is what matters. The failure is logged (a bug
 * or a document the renderer cannot read, never client content).
 * @internal
 */
export const renderCheckpointHtml = (
  render: CheckpointRenderer | undefined,
  doc: Y.Doc,
  logger: Logger | undefined,
  docId: string,
): string | null => {
  if (render === undefined) return null
  try {
    return render(doc)
  } catch (err) {
    logger?.warn({ err, docId }, 'checkpoint rendering failed')
    return null
  }
}
