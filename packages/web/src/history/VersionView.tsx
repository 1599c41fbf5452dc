/**
 * One version of a document, read-only: the state at a stored update, or
 * its changes since an earlier version (additions and deletions in their
 * authors' colours), or who wrote each run. A TipTap editor built from the
 * shared document schema (plus the `change` mark) shows it; it never edits.
 */
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import { documentExtensions } from '@quire/schema/editor'
import type { JSONContent } from '@tiptap/core'
import { yXmlFragmentToProsemirrorJSON } from '@tiptap/y-tiptap'
import { EditorContent, useEditor } from '@tiptap/react'
import { type ReactElement, useEffect, useRef, useState } from 'react'
import * as Y from 'yjs'
import { fetchVersionChanges, fetchVersionState } from '../api/endpoints.js'
import type { ChangeAttrs, VersionEditor } from '../api/types.js'
import { colorIndexesForUsers, paletteColor } from '../sync/user-color.js'
import { ChangeMark, type DescribeChange } from './change-mark.js'

/** What the view shows of a version. */
export type VersionMode = 'plain' | 'changes' | 'authors'

type LoadState =
  | { readonly status: 'loading' }
  | {
      readonly status: 'ready'
      readonly authors: readonly VersionEditor[]
      readonly summary: string
    }
  | { readonly status: 'error'; readonly message: string }

const EMPTY_DOC: JSONContent = { type: 'doc', content: [{ type: 'paragraph' }] }

export const VersionView = ({
  docId,
  seq,
  since,
  mode,
}: {
  docId: string
  seq: number
  /** The version compared against in 'changes' mode; null compares with the empty document. */
  since: number | null
  mode: VersionMode
}): ReactElement => {
  const [state, setState] = useState<LoadState>({ status: 'loading' })
  const describe = useRef<DescribeChange>((attrs) => attrs.kind)
  // Each person's own colour (as their caret and avatar have it), unless
  // another author of this version has it already: two people in one
  // version never share a colour (up to the palette's size).
  const colorIndexes = useRef(new Map<string, number>())
  const editor = useEditor({
    extensions: [
      ...documentExtensions(),
      ChangeMark.configure({
        describe: (attrs) => describe.current(attrs),
        colorIndexOf: (userId) => colorIndexes.current.get(userId) ?? null,
      }),
    ],
    editable: false,
    injectCSS: false,
    content: EMPTY_DOC,
    editorProps: {
      attributes: {
        'aria-label': 'Version content (read-only)',
        'aria-readonly': 'true',
        'aria-multiline': 'true',
        role: 'textbox',
        'data-testid': 'version-editor',
        class: 'document-body version-body',
      },
    },
  })

  useEffect(() => {
    let isCurrent = true
    setState({ status: 'loading' })
    const show = (doc: JSONContent): void => {
      const isEmpty = (doc.content ?? []).length === 0
      editor.commands.setContent(isEmpty ? EMPTY_DOC : doc, { emitUpdate: false })
    }
    const load = async (): Promise<LoadState> => {
      if (mode === 'plain') {
        const result = await fetchVersionState(docId, seq)
        if (!result.ok) return { status: 'error', message: result.error }
        const doc = new Y.Doc()
        try {
          Y.applyUpdate(doc, result.data)
          if (!isCurrent) return { status: 'loading' }
          show(yXmlFragmentToProsemirrorJSON(doc.getXmlFragment(RICH_TEXT_FRAGMENT)) as JSONContent)
        } finally {
          doc.destroy()
        }
        return { status: 'ready', authors: [], summary: '' }
      }
      const compareWith = mode === 'changes' ? (since ?? 0) : null
      const result = await fetchVersionChanges(docId, seq, compareWith === seq ? null : compareWith)
      if (!result.ok) return { status: 'error', message: result.error }
      if (!isCurrent) return { status: 'loading' }
      const names = new Map(result.data.authors.map((author) => [author.id, author.name]))
      describe.current = (attrs) => describeRun(attrs, names)
      colorIndexes.current = colorIndexesForUsers(result.data.authors.map((author) => author.id))
      show(result.data.doc)
      const summary =
        mode === 'changes'
          ? `${result.data.addedChars} characters added, ${result.data.deletedChars} deleted`
          : result.data.attributedFrom > 0
            ? `Text written before update ${result.data.attributedFrom} is not attributed.`
            : ''
      // The legend names whoever has a colour in this mode.
      const shown = mode === 'changes' ? changedAuthorIds(result.data.doc) : null
      const authors = result.data.authors.filter((author) => shown?.has(author.id) ?? true)
      return { status: 'ready', authors, summary }
    }
    void load()
      .catch((err: unknown) => ({ status: 'error', message: String(err) }) as const)
      .then((next) => {
        if (isCurrent) setState(next)
      })
    return () => {
      isCurrent = false
    }
  }, [docId, seq, since, mode, editor])

  return (
    <div className={`version-view version-mode-${mode}`} aria-busy={state.status === 'loading'}>
      {state.status === 'error' && (
        <p className="form-error" role="alert">
          This version cannot be shown: {state.message}
        </p>
      )}
      {state.status === 'ready' && mode !== 'plain' && (
        <div className="version-legend" data-testid="change-legend">
          {mode === 'changes' && (
            <span className="legend-key">
              <ins className="change change-added author-unknown">added</ins>
              <del className="change change-deleted author-unknown">deleted</del>
            </span>
          )}
          <ul className="legend-people" aria-label="Authors">
            {state.authors.map((author) => (
              <li key={author.id} data-testid="legend-author">
                <span
                  className="legend-swatch"
                  aria-hidden="true"
                  style={{
                    backgroundColor: paletteColor(colorIndexes.current.get(author.id) ?? 0),
                  }}
                />
                {author.name ?? 'Former member'}
              </li>
            ))}
          </ul>
          {state.summary !== '' && <span className="muted legend-summary">{state.summary}</span>}
        </div>
      )}
      <EditorContent editor={editor} className="editor-content" />
    </div>
  )
}

/** Who added or deleted text in a changes document. */
const changedAuthorIds = (node: JSONContent, ids = new Set<string>()): Set<string> => {
  for (const mark of node.marks ?? []) {
    const attrs = mark.attrs as ChangeAttrs | undefined
    if (mark.type !== 'change' || attrs === undefined || attrs.kind === 'kept') continue
    const id = attrs.kind === 'deleted' ? (attrs.deletedBy ?? attrs.author) : attrs.author
    if (id !== null) ids.add(id)
  }
  for (const child of node.content ?? []) changedAuthorIds(child, ids)
  return ids
}

const describeRun = (attrs: ChangeAttrs, names: ReadonlyMap<string, string | null>): string => {
  const nameOf = (id: string | null): string =>
    id === null ? 'someone earlier' : (names.get(id) ?? 'a former member')
  const when = (iso: string | null): string =>
    iso === null
      ? ''
      : `, ${new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`
  const written = `Written by ${nameOf(attrs.author)}${when(attrs.at)}`
  if (attrs.kind === 'added') return `Added by ${nameOf(attrs.author)}${when(attrs.at)}`
  if (attrs.kind === 'deleted') {
    return `Deleted by ${nameOf(attrs.deletedBy)}${when(attrs.deletedAt)} (${written.toLowerCase()})`
  }
  return written
}
