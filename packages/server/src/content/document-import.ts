/**
 * Files people bring in, HTML and Markdown, as Yjs updates of the document
 * schema. Parsing goes through the schema, which is the sanitiser: only the
 * node and mark types and attributes it declares survive, so scripts, event
 * handlers, styles, frames, images and other remote content, and links with
 * a scheme outside `LINK_PROTOCOLS` are gone.
 */
import type { JSONContent } from '@tiptap/core'
import { DOMParser, type Node as ProseMirrorNode } from '@tiptap/pm/model'
import { prosemirrorToYXmlFragment } from '@tiptap/y-tiptap'
import * as Y from 'yjs'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import { ContentError } from './content-error.js'
import { documentSchema } from './content-schema.js'
import { withDomDocument } from './dom-window.js'
import { documentMarkdown } from './document-export.js'
import { toDocumentNode } from './document-node.js'

/** Largest HTML or Markdown input accepted, in UTF-8 bytes. @default 1 MiB */
export const MAX_IMPORT_BYTES = 1024 * 1024

/** Options of the import conversions. */
export interface ImportOptions {
  /** Largest input accepted, in UTF-8 bytes. @default MAX_IMPORT_BYTES */
  readonly maxBytes?: number
}

// Elements removed before the schema sees the HTML, with everything inside:
// ProseMirror's parser descends into elements it has no rule for, which
// would turn a frame's fallback, a <noscript>, a <select>'s options or an
// SVG's text into document text. (<script> and <style> it ignores itself.)
const DROPPED_ELEMENTS = [
  'script',
  'style',
  'template',
  'noscript',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'svg',
  'math',
  'canvas',
  'audio',
  'video',
  'picture',
  'img',
  'select',
  'textarea',
  'head',
  'title',
  'meta',
  'link',
  'base',
].join(',')

const checkSize = (input: string, options: ImportOptions): void => {
  const maxBytes = options.maxBytes ?? MAX_IMPORT_BYTES
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (input.length * 3 <= maxBytes) return
  const bytes = Buffer.byteLength(input, 'utf8')
  if (bytes > maxBytes) {
    throw new ContentError(
      'CONTENT_TOO_LARGE',
      `input is ${bytes} bytes, over the ${maxBytes} limit`,
    )
  }
}

/** Parses HTML into a schema-valid document node. Throws `ContentError` (size, parser). */
export const htmlToNode = (html: string, options: ImportOptions = {}): ProseMirrorNode => {
  checkSize(html, options)
  const schema = documentSchema()
  let parsed: JSONContent
  try {
    parsed = withDomDocument((document) => {
      const body = document.body
      body.innerHTML = html
      for (const element of body.querySelectorAll(DROPPED_ELEMENTS)) element.remove()
      return DOMParser.fromSchema(schema)
        .parse(body as unknown as never)
        .toJSON() as JSONContent
    })
  } catch (err) {
    throw new ContentError('CONTENT_UNPARSABLE', 'the HTML could not be parsed', { cause: err })
  }
  // Through the tolerant builder as well: the DOM parser applies the link's
  // own URL check, this one also sees the URL as a browser will.
  return toDocumentNode(schema, parsed)
}

/** Parses Markdown into a schema-valid document node. Throws `ContentError` (size, parser). */
export const markdownToNode = (markdown: string, options: ImportOptions = {}): ProseMirrorNode => {
  checkSize(markdown, options)
  let parsed: JSONContent
  try {
    // Raw HTML inside Markdown stays literal text: TipTap interprets it only
    // where a browser DOM is global, which on a server it is not.
    parsed = documentMarkdown().parse(markdown)
  } catch (err) {
    throw new ContentError('CONTENT_UNPARSABLE', 'the Markdown could not be parsed', { cause: err })
  }
  return toDocumentNode(documentSchema(), parsed)
}

/**
 * A Yjs update that, applied to an empty document, gives it `node` as its
 * rich text, laid out exactly as the web editor's collaboration binding
 * (y-tiptap) lays it out.
 */
export const nodeToUpdate = (node: ProseMirrorNode): Uint8Array => {
  const doc = new Y.Doc()
  try {
    prosemirrorToYXmlFragment(node, doc.getXmlFragment(RICH_TEXT_FRAGMENT))
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

/**
 * HTML → a Yjs update that, applied to an empty document, yields its
 * sanitised content. Throws `ContentError`: `CONTENT_TOO_LARGE` past
 * `maxBytes`, `CONTENT_UNPARSABLE` when the parser fails.
 */
export const htmlToUpdate = (html: string, options: ImportOptions = {}): Uint8Array =>
  nodeToUpdate(htmlToNode(html, options))

/**
 * Markdown → a Yjs update that, applied to an empty document, yields its
 * content. Throws `ContentError` as `htmlToUpdate` does.
 */
export const markdownToUpdate = (markdown: string, options: ImportOptions = {}): Uint8Array =>
  nodeToUpdate(markdownToNode(markdown, options))

/** The text of the first heading of a document node, trimmed, or null when it has none. */
export const firstHeadingText = (node: ProseMirrorNode): string | null => {
  let found: string | null = null
  node.descendants((child) => {
    if (found !== null) return false
    if (child.type.name !== 'heading') return true
    const text = child.textContent.trim()
    if (text !== '') found = text
    return false
  })
  return found
}
