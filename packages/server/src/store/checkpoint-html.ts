/**
 * The HTML rendering stored with each checkpoint (DESIGN.md: a backup
 * readable without Quire). The store does not know the document schema;
 * `main.ts` hands it a renderer built on the content conversions, which
 * renders in a worker thread so a large document does not stall the node.
 */
import type { Logger } from 'pino'

/**
 * Renders a checkpoint's state (one Yjs update) as HTML; null when it has
 * nothing to show. May reject (busy, too slow); must not keep `state`.
 */
export type CheckpointRenderer = (state: Uint8Array) => Promise<string | null>

/**
 * Runs `render` on `state` and returns its HTML (NUL replaced by U+FFFD,
 * which a text column can hold), or null when there is no renderer or it
 * fails: a rendering never makes a checkpoint fail, since
 * the state it is built for is what matters. The failure is logged (a bug,
 * a busy or timed-out renderer, never client content).
 * @internal
 */
export const renderCheckpointHtml = async (
  render: CheckpointRenderer | undefined,
  state: Uint8Array,
  logger: Logger | undefined,
  docId: string,
): Promise<string | null> => {
  if (render === undefined) return null
  try {
    const html = await render(state)
    // PostgreSQL text refuses NUL: a rendering holding one would make the
    // checkpoint's INSERT fail, and with it every later compaction.
    return html?.includes('\u0000') === true ? html.replaceAll('\u0000', '\ufffd') : html
  } catch (err) {
    logger?.warn({ err, docId }, 'checkpoint rendering failed')
    return null
  }
}
