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
import { decodeEntities, MAX_DOCUMENT_DEPTH, toDocumentNode } from './document-node.js'

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

// NUL has no place in a document (PostgreSQL text refuses it, and HTML
// parsers drop or replace it): imports lose it before parsing.
const withoutNul = (input: string): string =>
  input.includes('\u0000') ? input.replaceAll('\u0000', '') : input

// Elements may nest deeper than nodes (inline wrappers, <div>s the schema
// drops), so the DOM gets twice the document's depth before ProseMirror's
// parser, which recurses, walks it.
const MAX_DOM_DEPTH = 2 * MAX_DOCUMENT_DEPTH

interface DomLike {
  readonly children: ArrayLike<DomLike>
}

const checkDomDepth = (root: DomLike): void => {
  const stack: [DomLike, number][] = [[root, 0]]
  while (stack.length > 0) {
    const [element, depth] = stack.pop() as [DomLike, number]
    if (depth > MAX_DOM_DEPTH) throw tooDeep()
    for (let i = 0; i < element.children.length; i++) {
      stack.push([element.children[i] as DomLike, depth + 1])
    }
  }
}

const tooDeep = (cause?: unknown): ContentError =>
  new ContentError('CONTENT_TOO_DEEP', `content is nested over ${MAX_DOCUMENT_DEPTH} levels deep`, {
    cause,
  })

// A parser that recurses per nesting level runs out of stack on input
// nested thousands deep: that is the input's depth, not a bug.
const isStackOverflow = (err: unknown): boolean =>
  err instanceof RangeError && /call stack/i.test(err.message)

/**
 * Parses HTML into a schema-valid document node. Throws `ContentError`
 * (size, depth, parser).
 */
export const htmlToNode = (html: string, options: ImportOptions = {}): ProseMirrorNode => {
  checkSize(html, options)
  const schema = documentSchema()
  let parsed: JSONContent
  try {
    parsed = withDomDocument((document) => {
      const body = document.body
      body.innerHTML = withoutNul(html)
      for (const element of body.querySelectorAll(DROPPED_ELEMENTS)) element.remove()
      checkDomDepth(body as unknown as DomLike)
      return DOMParser.fromSchema(schema)
        .parse(body as unknown as never)
        .toJSON() as JSONContent
    })
  } catch (err) {
    if (err instanceof ContentError) throw err
    if (isStackOverflow(err)) throw tooDeep(err)
    throw new ContentError('CONTENT_UNPARSABLE', 'the HTML could not be parsed', { cause: err })
  }
  // Through the tolerant builder as well: the DOM parser applies the link's
  // own URL check, this one also sees the URL as a browser will.
  return toDocumentNode(schema, parsed)
}

/**
 * Parses Markdown into a schema-valid document node. Throws `ContentError`
 * (size, depth, parser).
 */
export const markdownToNode = (markdown: string, options: ImportOptions = {}): ProseMirrorNode => {
  checkSize(markdown, options)
  let parsed: JSONContent
  try {
    // Raw HTML inside Markdown stays literal text: TipTap interprets it only
    // where a browser DOM is global, which on a server it is not.
    parsed = decodeLinkEntities(documentMarkdown().parse(withoutNul(markdown)))
  } catch (err) {
    if (isStackOverflow(err)) throw tooDeep(err)
    throw new ContentError('CONTENT_UNPARSABLE', 'the Markdown could not be parsed', { cause: err })
  }
  return toDocumentNode(documentSchema(), parsed)
}

/**
 * CommonMark decodes entities in link destinations and titles
 * (`[x](&#106;avascript:...)` links to `javascript:`); marked leaves them
 * as written. Decoded here, so the link check and the stored target are
 * what the file means. Iterative: the JSON may nest deeply.
 */
const decodeLinkEntities = (doc: JSONContent): JSONContent => {
  const stack: JSONContent[] = [doc]
  while (stack.length > 0) {
    const node = stack.pop() as JSONContent
    for (const mark of node.marks ?? []) {
      if (mark.type !== 'link' || mark.attrs === undefined) continue
      const { href, title } = mark.attrs as { href?: unknown; title?: unknown }
      mark.attrs = {
        ...mark.attrs,
        ...(typeof href === 'string' ? { href: decodeEntities(href) } : {}),
        ...(typeof title === 'string' ? { title: decodeEntities(title) } : {}),
      }
    }
    for (const child of node.content ?? []) stack.push(child)
  }
  return doc
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
