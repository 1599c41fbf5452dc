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
import { isAllowedLink } from '@quire/schema/editor'

// Browsers remove ASCII tab and newline from URLs and ignore leading C0
// controls and spaces (WHATWG URL), so `java\tscript:` runs as `javascript:`;
// the scheme check must see the URL as a browser will.
const IGNORED_URL_CHARACTERS = /[\u0000-\u0020\u007f]/g

/** Whether `href` is a link target the schema accepts: a string with an allowed scheme. */
export const isSafeLinkTarget = (href: unknown): href is string => {
  if (typeof href !== 'string') return false
  const seen = href.replace(IGNORED_URL_CHARACTERS, '')
  return seen !== '' && isAllowedLink(seen)
}

const toMarks = (schema: Schema, marks: JSONContent['marks']): Mark[] => {
  const result: Mark[] = []
  for (const mark of marks ?? []) {
    const type = schema.marks[mark.type]
    if (type === undefined) continue
    if (type.name === 'link') {
      // Only the target and title come from the input; rel and target stay
      // the schema's defaults (noopener, a new tab), whatever the file said.
      const href: unknown = mark.attrs?.href
      if (!isSafeLinkTarget(href)) continue
      const title: unknown = mark.attrs?.title
      result.push(
        type.create({ href: href.trim(), title: typeof title === 'string' ? title : null }),
      )
      continue
    }
    try {
      result.push(type.create(mark.attrs ?? null))
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
    const wrapping = match.findWrapping(allowed.type)
    const outer = wrapping?.[0]
    if (wrapping === null || outer === undefined) continue
    let wrapped: ProseMirrorNode | null = allowed
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

const toNode = (schema: Schema, json: JSONContent): ProseMirrorNode | null => {
  const type = json.type === undefined ? undefined : schema.nodes[json.type]
  if (type === undefined) return null
  const marks = toMarks(schema, json.marks)
  if (type.isText) {
    return typeof json.text !== 'string' || json.text === '' ? null : schema.text(json.text, marks)
  }
  const children: ProseMirrorNode[] = []
  for (const child of json.content ?? []) {
    const node = toNode(schema, child)
    if (node !== null) children.push(node)
  }
  return create(type, json.attrs ?? null, children, marks)
}

// Attributes the type does not declare are ignored by `create`; a value it
// refuses (a custom validator) drops the node.
const create = (
  type: NodeType,
  attrs: Record<string, unknown> | null,
  children: readonly ProseMirrorNode[],
  marks: readonly Mark[],
): ProseMirrorNode | null => {
  try {
    const node = type.create(attrs, fitChildren(type, children), marks)
    node.check()
    return node
  } catch {
    return null
  }
}

/**
 * Builds a valid document node from ProseMirror JSON: unknown node and mark
 * types are dropped, links with a disallowed scheme lose the link (not the
 * text), attributes the schema does not declare are ignored, and children
 * that do not fit where they stand are wrapped (text in a list item gets a
 * paragraph) or dropped. An empty document gets its one empty paragraph.
 * Never throws for any JSON shape.
 */
export const toDocumentNode = (schema: Schema, json: JSONContent): ProseMirrorNode => {
  const top = schema.topNodeType
  const content = json.type === top.name ? (json.content ?? []) : [json]
  const children: ProseMirrorNode[] = []
  for (const child of content) {
    const node = toNode(schema, child)
    if (node !== null) children.push(node)
  }
  // `create` of the top node cannot fail: it declares no attributes and
  // `fitChildren` leaves only content it accepts.
  return create(top, null, children, []) ?? (top.createAndFill() as ProseMirrorNode)
}
