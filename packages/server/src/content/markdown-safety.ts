/**
 * What keeps an exported Markdown file from carrying markup of its own.
 * TipTap's serialiser escapes text (`<`, `&`, emphasis characters) but
 * writes a link's target and title, a code block's language and its code
 * as they are: a target with a space or `)` ends the link early and the
 * rest is read as raw HTML, a title with `"` likewise, and code holding
 * ``` closes its fence. Here targets and titles are escaped before
 * serialising, and code blocks are written with a fence longer than any
 * backtick run in them.
 */
import { Extension, type JSONContent } from '@tiptap/core'

// In a link destination, these end it or start something else (spaces,
// parentheses, quotes, angle brackets, backslash escapes, backticks) and
// controls have no place: all are percent-encoded, which a URL means the
// same way.
const DESTINATION_SPECIAL = /[\u0000-\u0020\u007f"'()<>\\`]/g

const percentEncode = (c: string): string =>
  `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`

/**
 * `href` as a Markdown link destination that reads back as exactly `href`
 * and cannot end early: special characters percent-encoded, and `&` as
 * `&amp;` (CommonMark decodes entities in destinations, so `&#106;` would
 * otherwise be read as `j`).
 */
export const escapeMarkdownDestination = (href: string): string =>
  href.replace(DESTINATION_SPECIAL, percentEncode).replace(/&/g, '&amp;')

/**
 * `title` for a Markdown link title in double quotes: backslashes and
 * quotes escaped, `&`, `<` and `>` as entities (which a title decodes, and
 * which stay harmless text should the link not form), line breaks (a
 * blank line would end the paragraph) as spaces.
 */
export const escapeMarkdownTitle = (title: string): string =>
  title
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[\\"]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')

/** A code block's language as Markdown may carry it after a fence. */
const LANGUAGE = /^[A-Za-z0-9][A-Za-z0-9+#._-]{0,31}$/

/** The fence for `code`: backticks, more than its longest run of them, at least three. */
export const codeFenceFor = (code: string): string => {
  let longest = 0
  for (const run of code.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  return '`'.repeat(Math.max(3, longest + 1))
}

/**
 * Renders code blocks for the Markdown manager in place of the schema's
 * own renderer (a higher priority makes it the first handler of the type).
 */
export const MarkdownSafeCodeBlock = Extension.create({
  name: 'codeBlock',
  priority: 10_000,
  renderMarkdown: (node, helpers) => {
    const code = node.content === undefined ? '' : helpers.renderChildren(node.content)
    const fence = codeFenceFor(code)
    const language: unknown = node.attrs?.language
    const info = typeof language === 'string' && LANGUAGE.test(language) ? language : ''
    return `${fence}${info}\n${code}\n${fence}`
  },
})

/**
 * Renders inline code for the Markdown manager in place of the schema's
 * own renderer, whose fence can merge with a backtick at the end of the
 * code once the serialiser has moved trailing spaces out of the mark,
 * leaving the span unclosed and its unescaped text as raw Markdown. Here
 * the fence is longer than any backtick run in the code, and a space
 * separates it from code that starts or ends with a backtick (CommonMark
 * strips one such space on each side).
 */
export const MarkdownSafeCode = Extension.create({
  name: 'code',
  priority: 10_000,
  renderMarkdown: (node, helpers, context) => {
    if (node.content === undefined) return ''
    const meta = context.meta as { markText?: unknown } | undefined
    const code = typeof meta?.markText === 'string' ? meta.markText : ''
    let longest = 0
    for (const run of code.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
    const fence = '`'.repeat(longest + 1)
    const padding = longest > 0 ? ' ' : ''
    return `${fence}${padding}${helpers.renderChildren(node.content)}${padding}${fence}`
  },
})

const escapeMarks = (marks: JSONContent['marks']): JSONContent['marks'] =>
  marks?.map((mark) => {
    if (mark.type !== 'link') return mark
    const href: unknown = mark.attrs?.href
    const title: unknown = mark.attrs?.title
    return {
      ...mark,
      attrs: {
        ...mark.attrs,
        href: typeof href === 'string' ? escapeMarkdownDestination(href) : '',
        title: typeof title === 'string' ? escapeMarkdownTitle(title) : null,
      },
    }
  })

/**
 * A copy of document JSON (from a schema-valid node, so nested at most
 * `MAX_DOCUMENT_DEPTH` deep) ready for TipTap's Markdown serialiser: link
 * targets and titles escaped, and line breaks in text outside code blocks
 * turned into spaces. Markdown reads a line break in a paragraph as a
 * space (HTML shows it so too), but a blank line ends the paragraph, and
 * with it any link, emphasis or code span open there, leaving the rest of
 * that construct (unescaped inline code, a link's title) as raw Markdown.
 * Hard breaks are nodes of their own and stay.
 */
export const prepareForMarkdown = (json: JSONContent, isInCodeBlock = false): JSONContent => {
  const marks = escapeMarks(json.marks)
  const text =
    json.text === undefined || isInCodeBlock ? json.text : json.text.replace(/[\r\n]/g, ' ')
  const isCodeBlock = json.type === 'codeBlock'
  return {
    ...json,
    ...(marks === undefined ? {} : { marks }),
    ...(text === undefined ? {} : { text }),
    ...(json.content === undefined
      ? {}
      : { content: json.content.map((child) => prepareForMarkdown(child, isCodeBlock)) }),
  }
}
