/**
 * A document's rich text in the formats people take elsewhere: the editor's
 * ProseMirror JSON, HTML, Markdown and plain text. Each reads the
 * `RICH_TEXT_FRAGMENT` of a `Y.Doc` and never changes the document (the
 * Yjs→ProseMirror conversion of y-tiptap deletes what the schema cannot
 * hold; here that content is only left out of the result).
 */
import { getTextSerializersFromSchema, type JSONContent } from '@tiptap/core'
import { MarkdownManager } from '@tiptap/markdown'
import type { Node as ProseMirrorNode } from '@tiptap/pm/model'
import { renderToHTMLString } from '@tiptap/static-renderer/pm/html-string'
import { yXmlFragmentToProsemirrorJSON } from '@tiptap/y-tiptap'
import * as Y from 'yjs'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import { ContentError } from './content-error.js'
import { documentSchema, schemaExtensions } from './content-schema.js'
import { MAX_DOCUMENT_DEPTH, toDocumentNode, toStorableText } from './document-node.js'
import { MarkdownSafeCode, MarkdownSafeCodeBlock, prepareForMarkdown } from './markdown-safety.js'
import { MarkdownTableAsParagraphs } from './markdown-tables.js'

/**
 * How deeply the elements of `fragment` nest (1: elements straight in it),
 * counted iteratively and stopping once past `limit`. With `withDeleted`,
 * deleted elements count too (a document kept with `gc: false`).
 */
export const fragmentDepth = (
  fragment: Y.XmlFragment,
  limit = MAX_DOCUMENT_DEPTH,
  withDeleted = false,
): number => {
  let deepest = 0
  const stack: [Y.XmlFragment | Y.XmlElement, number][] = [[fragment, 0]]
  while (stack.length > 0) {
    const [parent, depth] = stack.pop() as [Y.XmlFragment | Y.XmlElement, number]
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (let item = parent._start; item !== null; item = item.right) {
      if (item.deleted && !withDeleted) continue
      const { content } = item
      if (content instanceof Y.ContentType && content.type instanceof Y.XmlElement) {
        stack.push([content.type, depth + 1])
      }
    }
  }
  return deepest
}

/** Throws `CONTENT_TOO_DEEP` when `fragment` nests deeper than `MAX_DOCUMENT_DEPTH`. */
export const checkFragmentDepth = (fragment: Y.XmlFragment, withDeleted = false): void => {
  if (fragmentDepth(fragment, MAX_DOCUMENT_DEPTH, withDeleted) > MAX_DOCUMENT_DEPTH) {
    throw new ContentError(
      'CONTENT_TOO_DEEP',
      `the document is nested over ${MAX_DOCUMENT_DEPTH} levels deep`,
    )
  }
}

/**
 * The document's rich text as a schema-valid ProseMirror node. Content the
 * schema cannot hold (written by a hostile or newer client) is left out.
 * Throws `ContentError` (`CONTENT_TOO_DEEP`) for a document nested deeper
 * than `MAX_DOCUMENT_DEPTH`: every reader below walks it recursively.
 */
export const docToNode = (doc: Y.Doc): ProseMirrorNode => {
  const fragment = doc.getXmlFragment(RICH_TEXT_FRAGMENT)
  checkFragmentDepth(fragment)
  return toDocumentNode(documentSchema(), yXmlFragmentToProsemirrorJSON(fragment))
}

/** The document's rich text as the editor's ProseMirror JSON (`{type: 'doc', content}`). */
export const docToJson = (doc: Y.Doc): JSONContent => docToNode(doc).toJSON() as JSONContent

/**
 * Renders a document node as an HTML fragment (the body's content, no page
 * around it), with the markup the editor's own `renderHTML` rules give.
 * TipTap's static renderer writes the string directly, with no DOM: about
 * five times faster than serialising through happy-dom, which matters for
 * checkpoints, rendered on the node's event loop.
 */
export const nodeToHtml = (node: ProseMirrorNode): string =>
  // The builder already replaced NUL in text; this also covers attributes,
  // since a checkpoint's HTML goes to a text column, which refuses NUL.
  toStorableText(renderToHTMLString({ content: node, extensions: schemaExtensions() }))

/**
 * The document's rich text as an HTML fragment, the elements the editor
 * itself renders (for a standalone page, see `toHtmlPage`).
 */
export const docToHtml = (doc: Y.Doc): string => nodeToHtml(docToNode(doc))

let markdownManager: MarkdownManager | null = null

/** TipTap's Markdown manager over the document schema, created on first use. */
export const documentMarkdown = (): MarkdownManager => {
  markdownManager ??= new MarkdownManager({
    extensions: [
      ...schemaExtensions(),
      MarkdownTableAsParagraphs,
      MarkdownSafeCodeBlock,
      MarkdownSafeCode,
    ],
  })
  return markdownManager
}

/**
 * A document node as Markdown (CommonMark plus GitHub's task lists and
 * strikethrough), written by TipTap's Markdown serialiser with link
 * targets, titles and code fences made safe (`markdown-safety.ts`): the
 * file renders to no element or attribute the document does not have.
 */
export const nodeToMarkdown = (node: ProseMirrorNode): string =>
  documentMarkdown().serialize(prepareForMarkdown(node.toJSON() as JSONContent))

/** The document's rich text as Markdown (see `nodeToMarkdown`). */
export const docToMarkdown = (doc: Y.Doc): string => nodeToMarkdown(docToNode(doc))

/**
 * The document's text: one entry per paragraph, heading, list item text or
 * code block, separated by a blank line; hard breaks as line breaks; no
 * markup (list bullets, rules and marks are left out).
 */
export const docToText = (doc: Y.Doc): string => {
  const node = docToNode(doc)
  const serializers = getTextSerializersFromSchema(node.type.schema)
  const blocks: string[] = []
  node.descendants((child) => {
    if (!child.isTextblock) return true
    blocks.push(
      child.textBetween(0, child.content.size, undefined, (leaf) => {
        // The schema's inline leaves (hard break: a line break) read only
        // `node`; positions do not matter for a whole-block read.
        const serialize = serializers[leaf.type.name]
        const range = { from: 0, to: child.content.size }
        return serialize?.({ node: leaf, pos: 0, parent: child, index: 0, range }) ?? ''
      }),
    )
    return false
  })
  return blocks.join('\n\n')
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * A standalone HTML page around an HTML fragment, with `title` (escaped) in
 * its head: what an exported `.html` file holds.
 */
export const toHtmlPage = (title: string, bodyHtml: string): string =>
  `<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n</head>\n<body>\n${bodyHtml}\n</body>\n</html>\n`
