/**
 * The document schema Quire's server and editor share. A document is one
 * `Y.Doc`; its rich text lives in the `Y.XmlFragment` named
 * `RICH_TEXT_FRAGMENT`, bound to the editor's ProseMirror schema (added with
 * the web app). Recorded editing traces replay into the plain `Y.Text`
 * named `TRACE_TEXT`, the form the published Yjs trace files use.
 */

/** Version of the document schema; a client older than a document's version is refused. */
export const SCHEMA_VERSION = 1

/** Name of the `Y.XmlFragment` holding a document's rich text (TipTap's default field). */
export const RICH_TEXT_FRAGMENT = 'default'

/** Name of the root `Y.Text` that replayed editing traces edit. */
export const TRACE_TEXT = 'text'
