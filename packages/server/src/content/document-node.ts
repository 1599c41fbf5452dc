/**
 * ProseMirror JSON → a node of the document schema, tolerantly: whatever
 * the schema cannot hold is dropped instead of failing the whole document.
 * Export and import share it, so a document with content from an older or
 * hostile client still exports, and an imported file keeps all it can.
 */
import type { JSONContent } from '@tiptap/core'
import {
  type ContentMatch,
  Fragment,
  type Mark,
  type Node as ProseMirrorNode,
  type NodeType,
  type Schema,
} from '@tiptap/pm/model'
import { HEADING_LEVELS, isAllowedLink } from '@quire/schema/editor'
import { ContentError } from './content-error.js'

// Browsers remove ASCII tab and newline from URLs and ignore leading C0
// controls and spaces (WHATWG URL), so `java\tscript:` runs as `javascript:`;
// the scheme check must see the URL as a browser will.
const IGNORED_URL_CHARACTERS = /[\u0000-\u0020\u007f]/g

// Numeric character references and the named ones that can spell a scheme
// or hide its colon. A reader that decodes entities (a browser reading an
// attribute, a CommonMark parser reading a link destination) would see
// `&#106;avascript&colon;` as `javascript:`.
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));?/g
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  colon: ':',
  Tab: '\t',
  NewLine: '\n',
  sol: '/',
  bsol: '\\',
  nbsp: '\u00a0',
}

const decodeEntitiesOnce = (text: string): string =>
  text.replace(ENTITY, (match, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? match
    const code = dec !== undefined ? Number(dec) : parseInt(hex as string, 16)
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd'
  })

/**
 * `text` with its numeric character references and the named ones above
 * decoded, once (as a CommonMark parser decodes a link destination).
 */
export const decodeEntities = (text: string): string =>
  text.includes('&') ? decodeEntitiesOnce(text) : text

/**
 * `href` as the most decoding reader would take it: entities decoded until
 * nothing changes (a few rounds at most), then the characters browsers
 * ignore removed, lower-cased.
 */
const normaliseForCheck = (href: string): string => {
  let decoded = href
  for (let round = 0; round < 4; round++) {
    const next = decodeEntitiesOnce(decoded)
    if (next === decoded) break
    decoded = next
  }
  return decoded.replace(IGNORED_URL_CHARACTERS, '').toLowerCase()
}

/**
 * Whether `href` is a link target the schema accepts: a string whose scheme,
 * after decoding entities and removing what browsers ignore, is one of
 * `LINK_PROTOCOLS`, or a relative target (a path, `?query`, `#fragment`).
 * Refused: any other scheme, protocol-relative targets (`//host`, which a
 * browser opens on another site; backslashes count as slashes there), and
 * a target whose first segment still holds an entity this check does not
 * decode (it could hide a scheme from it).
 */
export const isSafeLinkTarget = (href: unknown): href is string => {
  if (typeof href !== 'string') return false
  const seen = normaliseForCheck(href)
  if (seen === '' || /^[/\\]{2}/.test(seen)) return false
  const firstSegment = /^[^/?#]*/.exec(seen)?.[0] ?? ''
  if (/&[a-z0-9#]+;?/.test(firstSegment)) return false
  return isAllowedLink(seen)
}

/**
 * The target to store for a safe `href`: surrounding C0 controls and spaces
 * and every tab and newline removed (a browser ignores them), other
 * controls percent-encoded (PostgreSQL text refuses NUL; none belongs in a
 * URL). Null when the target is not safe (`isSafeLinkTarget`).
 */
export const cleanLinkTarget = (href: unknown): string | null => {
  if (!isSafeLinkTarget(href)) return null
  const cleaned = href
    .replace(/[\t\n\r]/g, '')
    .replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '')
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return cleaned === '' ? null : cleaned
}

/** Most nesting levels of nodes a document may have for its conversions. */
export const MAX_DOCUMENT_DEPTH = 200

// Characters a document's text must not carry out: PostgreSQL text refuses
// NUL (a checkpoint's HTML is a text column), and no format has a use for
// it. Replaced, as an HTML parser replaces it, so the text keeps its length.
const REFUSED_TEXT_CHARACTERS = /\u0000/g

/** `text` without the characters PostgreSQL text refuses (NUL becomes U+FFFD). */
export const toStorableText = (text: string): string =>
  text.includes('\u0000') ? text.replace(REFUSED_TEXT_CHARACTERS, '\ufffd') : text

// A title is shown as a tooltip; controls (NUL, bidi overrides ride on
// other code points) have no place in it, and it is short.
const cleanTitle = (title: unknown): string | null => {
  if (typeof title !== 'string') return null
  const cleaned = title
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
    .slice(0, 500)
  return cleaned === '' ? null : cleaned
}

const ORDERED_LIST_TYPES = new Set(['1', 'a', 'A', 'i', 'I'])

/** Largest ordered-list start kept; larger ones restart at 1. */
const MAX_LIST_START = 1_000_000_000

/** A code block's language, as a safe token (letters, digits, `+#._-`). */
const LANGUAGE = /^[A-Za-z0-9][A-Za-z0-9+#._-]{0,31}$/

/**
 * The attributes a node of `type` keeps from `attrs`: each one the schema
 * declares, checked against the values it allows; anything else (a
 * heading level 99, a string `checked`, a language with a newline) gets the
 * schema's default. Node types without attributes get none.
 */
const sanitiseAttrs = (
  type: NodeType,
  attrs: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null => {
  const value = (name: string): unknown => attrs?.[name]
  switch (type.name) {
    case 'heading': {
      const level = value('level')
      if (typeof level !== 'number' || !Number.isInteger(level)) return { level: 1 }
      return { level: Math.min(HEADING_LEVELS.length, Math.max(1, level)) }
    }
    case 'taskItem':
      return { checked: value('checked') === true }
    case 'orderedList': {
      const start = value('start')
      const listType = value('type')
      return {
        start:
          typeof start === 'number' &&
          Number.isInteger(start) &&
          start >= 0 &&
          start <= MAX_LIST_START
            ? start
            : 1,
        type: typeof listType === 'string' && ORDERED_LIST_TYPES.has(listType) ? listType : null,
      }
    }
    case 'codeBlock': {
      const language = value('language')
      return { language: typeof language === 'string' && LANGUAGE.test(language) ? language : null }
    }
    default:
      return null
  }
}

const toMarks = (schema: Schema, marks: JSONContent['marks']): Mark[] => {
  const result: Mark[] = []
  for (const mark of marks ?? []) {
    const type = schema.marks[mark.type]
    if (type === undefined) continue
    if (type.name === 'link') {
      // Only the target and title come from the input; rel and target stay
      // the schema's defaults (noopener, a new tab), whatever the file said.
      const href = cleanLinkTarget(mark.attrs?.href)
      if (href === null) continue
      result.push(type.create({ href, title: cleanTitle(mark.attrs?.title) }))
      continue
    }
    try {
      // Marks of the document schema other than links declare no
      // attributes; an added mark type (the changes view's) brings its own.
      result.push(
        type.create(Object.keys(type.spec.attrs ?? {}).length === 0 ? null : (mark.attrs ?? null)),
      )
    } catch {
      // An attribute the mark refuses: the text stays, without the mark.
    }
  }
  return result
}

// Keeps the children `type` can hold, in order: a child that does not fit
// where it stands is wrapped when the schema knows how (text straight in a
// list item gets a paragraph), otherwise dropped; what the type still needs
// at the end (a paragraph in an empty list item) is filled in.
const fitChildren = (type: NodeType, children: readonly ProseMirrorNode[]): ProseMirrorNode[] => {
  const fitted: ProseMirrorNode[] = []
  let match: ContentMatch = type.contentMatch
  for (const child of children) {
    const allowed = type.allowsMarks(child.marks)
      ? child
      : child.mark(type.allowedMarks(child.marks))
    const next = match.matchType(allowed.type)
    if (next !== null) {
      fitted.push(allowed)
      match = next
      continue
    }
    const wrapping = match.findWrapping(child.type)
    const outer = wrapping?.[0]
    if (wrapping === null || outer === undefined) continue
    // The wrapper (a paragraph around text) may allow marks `type` does not.
    let wrapped: ProseMirrorNode | null = child
    for (let i = wrapping.length - 1; i >= 0 && wrapped !== null; i--) {
      wrapped = (wrapping[i] as NodeType).createAndFill(null, wrapped)
    }
    const after = match.matchType(outer)
    if (wrapped === null || after === null) continue
    fitted.push(wrapped)
    match = after
  }
  const end = match.fillBefore(Fragment.empty, true)
  return end === null ? fitted : [...fitted, ...childrenOf(end)]
}

const childrenOf = (fragment: Fragment): ProseMirrorNode[] => {
  const nodes: ProseMirrorNode[] = []
  fragment.forEach((node) => nodes.push(node))
  return nodes
}

// Unknown node types are not kept, but their text is: their children take
// their place (and are fitted where they land, like any child).
const toNodes = (schema: Schema, json: JSONContent, into: ProseMirrorNode[]): void => {
  const type = json.type === undefined ? undefined : schema.nodes[json.type]
  if (type?.isText === true) {
    if (typeof json.text !== 'string' || json.text === '') return
    into.push(schema.text(toStorableText(json.text), toMarks(schema, json.marks)))
    return
  }
  const children: ProseMirrorNode[] = []
  for (const child of json.content ?? []) toNodes(schema, child, children)
  if (type === undefined || type === schema.topNodeType) {
    // One by one: `push(...children)` passes each as an argument, which
    // overflows the stack past some 100,000.
    for (const child of children) into.push(child)
    return
  }
  const node = create(type, sanitiseAttrs(type, json.attrs), children, toMarks(schema, json.marks))
  if (node !== null) into.push(node)
}

// Attributes are sanitised first; a value the type still refuses drops the
// node. Only this node's own content is checked: its children were built
// (and checked) the same way, so `node.check()`'s walk of the whole subtree
// at every level would only repeat the work.
const create = (
  type: NodeType,
  attrs: Record<string, unknown> | null,
  children: readonly ProseMirrorNode[],
  marks: readonly Mark[],
): ProseMirrorNode | null => {
  try {
    const node = type.create(attrs, fitChildren(type, children), marks)
    return type.validContent(node.content) ? node : null
  } catch {
    return null
  }
}

/**
 * How deeply `json` nests, counted iteratively (a document nested deeper
 * than the stack is deep must not take the caller down), stopping once
 * past `limit`.
 */
const depthOf = (json: JSONContent, limit: number): number => {
  let deepest = 0
  const stack: [JSONContent, number][] = [[json, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [JSONContent, number]
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of node.content ?? []) stack.push([child, depth + 1])
  }
  return deepest
}

/**
 * Builds a valid document node from ProseMirror JSON: unknown node and mark
 * types are dropped (an unknown node's text stays), links with a target
 * that is not safe lose the link (not the text), attributes are checked
 * against the values the schema allows (others get its default), NUL in
 * text becomes U+FFFD, and children that do not fit where they stand are
 * wrapped (text in a list item gets a paragraph) or dropped. An empty
 * document gets its one empty paragraph. Every reader of document content
 * (exports, the changes view) goes through it. Throws `ContentError`
 * (`CONTENT_TOO_DEEP`) for JSON nested more than `MAX_DOCUMENT_DEPTH`
 * levels, and nothing else for any JSON shape.
 */
export const toDocumentNode = (schema: Schema, json: JSONContent): ProseMirrorNode => {
  if (depthOf(json, MAX_DOCUMENT_DEPTH) > MAX_DOCUMENT_DEPTH) {
    throw new ContentError(
      'CONTENT_TOO_DEEP',
      `content is nested over ${MAX_DOCUMENT_DEPTH} levels deep`,
    )
  }
  const top = schema.topNodeType
  const children: ProseMirrorNode[] = []
  toNodes(schema, json.type === top.name ? { content: json.content ?? [] } : json, children)
  // `create` of the top node cannot fail: it declares no attributes and
  // `fitChildren` leaves only content it accepts.
  return create(top, null, children, []) ?? (top.createAndFill() as ProseMirrorNode)
}
