/**
 * Markdown tables on import. The schema has no table, and TipTap's Markdown
 * parser drops a token it has no handler for with everything inside it, so
 * a table in an imported file would vanish. This handler keeps its text: one
 * paragraph per row (the header row first), cells separated by ` | `, their
 * inline marks and links kept. Parsing only: it adds nothing to the schema.
 */
import { Extension, type JSONContent, type MarkdownToken } from '@tiptap/core'

interface TableCell {
  readonly tokens?: MarkdownToken[]
}

const isCellList = (value: unknown): value is TableCell[] => Array.isArray(value)

/** The extension to add to the Markdown manager's list, after the schema's. */
export const MarkdownTableAsParagraphs = Extension.create({
  name: 'markdownTableAsParagraphs',
  markdownTokenName: 'table',
  parseMarkdown: (token, helpers) => {
    const header: unknown = token.header
    const rows: unknown = token.rows
    const lines = [header, ...(Array.isArray(rows) ? (rows as unknown[]) : [])].filter(isCellList)
    return lines.map((cells): JSONContent => {
      const content: JSONContent[] = []
      cells.forEach((cell, index) => {
        if (index > 0) content.push(helpers.createTextNode(' | '))
        content.push(...helpers.parseInline(cell.tokens ?? []))
      })
      return helpers.createNode('paragraph', undefined, content)
    })
  },
})
