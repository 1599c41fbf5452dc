/**
 * The editor's extensions: the shared document schema, plus what only an
 * interactive, collaborative editor needs.
 */
import type { Extensions } from '@tiptap/core'
import { Collaboration } from '@tiptap/extension-collaboration'
import { CollaborationCaret } from '@tiptap/extension-collaboration-caret'
import { ListKeymap } from '@tiptap/extension-list'
import { Dropcursor, Gapcursor, Placeholder } from '@tiptap/extensions'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import { documentExtensions } from '@quire/schema/editor'
import type { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'

/** The local person as their caret shows them to others (the server stamps the name it knows). */
export interface CaretUser {
  readonly name: string
  readonly color: string
}

/**
 * Extensions for one editor bound to `doc`. Undo and redo come from the
 * Collaboration extension: a Yjs UndoManager that tracks only this editor's
 * own changes, so undo never takes back a collaborator's typing.
 */
export const createEditorExtensions = (
  doc: Y.Doc,
  provider: WebsocketProvider,
  user: CaretUser,
): Extensions => [
  ...documentExtensions(),
  Dropcursor.configure({ color: '#2f5d50', width: 2 }),
  Gapcursor,
  ListKeymap,
  Placeholder.configure({ placeholder: 'Start writing…' }),
  Collaboration.configure({ document: doc, field: RICH_TEXT_FRAGMENT }),
  CollaborationCaret.configure({ provider, user: { name: user.name, color: user.color } }),
]
