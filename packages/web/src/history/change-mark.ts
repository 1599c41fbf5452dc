/**
 * The `change` mark of the history view: every text run of a version's
 * changes (docs/API.md, `GET .../versions/:seq/changes`) carries one, saying
 * whether the run is kept, added or deleted and who wrote (and deleted) it.
 * Only the read-only version view uses it; it is not part of the document
 * schema and is never written to a document.
 *
 * Colours come from classes (`author-<n>`): the CSP refuses the style
 * attributes ProseMirror would otherwise render.
 */
import { Mark } from '@tiptap/core'
import type { ChangeAttrs } from '../api/types.js'
import { colorIndexForUser } from '../sync/user-color.js'

/** Describes a run for its tooltip, e.g. "Added by Emil, 14:02". */
export type DescribeChange = (attrs: ChangeAttrs) => string

export interface ChangeMarkOptions {
  /**
   * Names the people in tooltips. A function (TipTap copies plain option
   * objects when configuring), which may read what the view last loaded.
   */
  readonly describe: DescribeChange
  /**
   * The palette index of a person's colour (class `author-<index>`); null
   * for text whose author is unknown. Also a function, for the same reason.
   * @default the index `colorIndexForUser` gives
   */
  readonly colorIndexOf: (userId: string) => number | null
}

const ATTRIBUTES = ['kind', 'author', 'at', 'deletedBy', 'deletedAt'] as const

export const ChangeMark = Mark.create<ChangeMarkOptions>({
  name: 'change',
  // Outermost of all marks (ProseMirror nests marks by schema order, which
  // TipTap sorts by priority): one element spans a run whatever other marks
  // its text has, so its tint and underline cover inline code's padding too.
  priority: 10_000,
  // Runs next to each other with different authors stay separate.
  excludes: '',
  inclusive: false,

  addOptions() {
    return { describe: (attrs) => attrs.kind, colorIndexOf: colorIndexForUser }
  },

  addAttributes() {
    return Object.fromEntries(
      ATTRIBUTES.map((name) => [
        name,
        { default: name === 'kind' ? 'kept' : null, rendered: false },
      ]),
    )
  },

  renderHTML({ mark }) {
    const attrs = mark.attrs as ChangeAttrs
    const person = attrs.kind === 'deleted' ? (attrs.deletedBy ?? attrs.author) : attrs.author
    const colorIndex = person === null ? null : this.options.colorIndexOf(person)
    return [
      attrs.kind === 'deleted' ? 'del' : attrs.kind === 'added' ? 'ins' : 'span',
      {
        class: `change change-${attrs.kind} author-${colorIndex ?? 'unknown'}`,
        'data-change': attrs.kind,
        'data-author': attrs.author ?? '',
        title: this.options.describe(attrs),
      },
      0,
    ]
  },
})
