/**
 * The TipTap extensions that define a Quire document's ProseMirror schema:
 * every node and mark type a document may hold. The web editor builds its
 * editor from this list (adding behaviour such as collaboration, carets and
 * placeholders), and the server can build the same schema (`getSchema`) to
 * render or import documents, so both sides agree on every node type.
 *
 * A separate entry (`@quire/schema/editor`) so that server code that needs
 * only the constants never loads TipTap.
 */
import type { Extensions } from '@tiptap/core'
import { TaskItem, TaskList } from '@tiptap/extension-list'
import { StarterKit } from '@tiptap/starter-kit'

/** Heading levels a document may use; the toolbar offers the same. */
export const HEADING_LEVELS = [1, 2, 3] as const

/** A heading level a document may use. */
export type HeadingLevel = (typeof HEADING_LEVELS)[number]

/** URL schemes a link may carry; anything else (`javascript:`, `data:`) is refused. */
export const LINK_PROTOCOLS = ['http', 'https', 'mailto'] as const

/**
 * Returns a fresh list of the schema-defining extensions (a new list each
 * call: TipTap extensions hold per-editor configuration). Nodes: doc,
 * paragraph, text, heading 1–3, bulletList, orderedList, listItem,
 * taskList, taskItem, blockquote, codeBlock, horizontalRule, hardBreak.
 * Marks: bold, italic, strike, code, link.
 *
 * Leaves out what is behaviour, not schema: undo (collaborative editors use
 * the Yjs undo manager, which only undoes the local person's edits), the
 * drop and gap cursors, list key bindings and the trailing paragraph; the
 * editor adds those it wants. Changing what this list accepts changes the
 * schema: raise `SCHEMA_VERSION` with it, so older editors are refused
 * instead of dropping content they do not know.
 */
export const documentExtensions = (): Extensions => [
  StarterKit.configure({
    heading: { levels: [...HEADING_LEVELS] },
    link: {
      openOnClick: false,
      autolink: true,
      defaultProtocol: 'https',
      isAllowedUri: (url, { defaultValidate }) => defaultValidate(url) && isAllowedLink(url),
      HTMLAttributes: { rel: 'noopener noreferrer nofollow', target: '_blank' },
    },
    undoRedo: false,
    underline: false,
    dropcursor: false,
    gapcursor: false,
    listKeymap: false,
    trailingNode: false,
  }),
  TaskList,
  TaskItem.configure({ nested: true }),
]

/**
 * Whether a link target uses an allowed scheme; relative and scheme-less
 * targets are allowed (TipTap prefixes the default protocol when typing).
 */
export const isAllowedLink = (url: string): boolean => {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim())
  if (match === null) return true
  const scheme = (match[1] ?? '').toLowerCase()
  return (LINK_PROTOCOLS as readonly string[]).includes(scheme)
}
