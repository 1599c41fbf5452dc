import type { JSONContent } from '@tiptap/core'
import fc from 'fast-check'
import { Marked } from 'marked'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import { documentSchema } from './content-schema.js'
import { withDomDocument } from './dom-window.js'
import { docToMarkdown, nodeToMarkdown } from './document-export.js'
import { markdownToNode } from './document-import.js'
import { isSafeLinkTarget, toDocumentNode } from './document-node.js'
import { codeFenceFor, escapeMarkdownDestination } from './markdown-safety.js'

/** Elements and attributes the Markdown of a Quire document may render to. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  p: [],
  a: ['href', 'title'],
  strong: [],
  em: [],
  del: [],
  code: ['class'],
  pre: [],
  h1: ['id'],
  h2: ['id'],
  h3: ['id'],
  h4: ['id'],
  h5: ['id'],
  h6: ['id'],
  ul: [],
  ol: ['start'],
  li: [],
  blockquote: [],
  hr: [],
  br: [],
  input: ['type', 'checked', 'disabled'],
}

/**
 * Renders `markdown` as a Markdown reader would (a fresh marked, raw HTML
 * allowed) and lists every element, attribute or link target outside the
 * allowed set, as a browser parses the result.
 */
const problemsOf = (markdown: string): string[] => {
  const html = new Marked({ gfm: true }).parse(markdown, { async: false })
  return withDomDocument((document) => {
    const problems: string[] = []
    document.body.innerHTML = html
    for (const element of document.body.querySelectorAll('*')) {
      const tag = element.tagName.toLowerCase()
      const allowed = ALLOWED[tag]
      if (allowed === undefined) {
        problems.push(`element <${tag}>`)
        continue
      }
      for (const name of element.getAttributeNames()) {
        if (!allowed.includes(name)) problems.push(`attribute ${name} on <${tag}>`)
      }
      const href = element.getAttribute('href')
      if (href !== null && !isSafeLinkTarget(href)) problems.push(`href ${JSON.stringify(href)}`)
      const className = element.getAttribute('class')
      if (className !== null && !/^language-[A-Za-z0-9+#._-]+$/.test(className)) {
        problems.push(`class ${JSON.stringify(className)}`)
      }
    }
    return problems
  })
}

const markdownOf = (json: JSONContent): string =>
  nodeToMarkdown(toDocumentNode(documentSchema(), json))

const paragraph = (...content: JSONContent[]): JSONContent => ({ type: 'paragraph', content })
const linked = (text: string, href: string, title?: string): JSONContent => ({
  type: 'text',
  text,
  marks: [{ type: 'link', attrs: { href, ...(title === undefined ? {} : { title }) } }],
})

// Strings built from what breaks Markdown and HTML: quotes, brackets,
// parentheses, backticks, entities, tags, line breaks, schemes.
const hostile = fc
  .array(
    fc.constantFrom(
      '"',
      "'",
      '(',
      ')',
      '[',
      ']',
      '<',
      '>',
      '`',
      '```',
      '~~~',
      '\\',
      '&',
      '&#106;',
      '&colon;',
      ';',
      ' ',
      '\n',
      '\n\n',
      '\t',
      '\u0000',
      'javascript:',
      'https://a.example/',
      '//',
      '<img src=x onerror=alert(1)>',
      '<script>alert(1)</script>',
      'onclick=',
      'x',
      '#',
      '*',
      '_',
      '    ',
      '> ',
      '- ',
      '1. ',
      '|',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''))

describe('Markdown export', () => {
  it('renders hostile link targets, titles and code to no element or attribute outside the schema', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, hostile, (a, b, c, d, e) => {
        const json: JSONContent = {
          type: 'doc',
          content: [
            paragraph(linked(`t${a}`, `https://a.example/${b}`, c)),
            paragraph(linked('rel', d)),
            paragraph({ type: 'text', text: `c${e}`, marks: [{ type: 'code' }] }),
            { type: 'codeBlock', attrs: { language: a }, content: [{ type: 'text', text: b }] },
            paragraph({ type: 'text', text: `p${c}` }),
            {
              type: 'bulletList',
              content: [{ type: 'listItem', content: [paragraph(linked(`l${e}`, `mailto:${d}`))] }],
            },
          ],
        }
        const markdown = markdownOf(json)
        expect(problemsOf(markdown), markdown).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the targets that break out of [..](..) inside the link', () => {
    const markdown = markdownOf({
      type: 'doc',
      content: [
        paragraph(linked('breakout', 'https://a.example/ "x") <img src=x onerror=alert(1)> ("')),
        paragraph(linked('title', 'https://a.example/', 'x") <img src=x onerror=alert(2)> ("')),
        paragraph(linked('paren', 'https://a.example/)<img src=x onerror=alert(3)>')),
      ],
    })
    expect(problemsOf(markdown)).toEqual([])
    const html = new Marked().parse(markdown, { async: false })
    expect(html).toContain('href="https://a.example/%20%22x%22%29%20%3Cimg')
    expect(html).not.toContain('<img')
  })

  it('fences code longer than any backtick run in it and drops a language that is not a token', () => {
    const code = 'a\n```\n<img src=x onerror=alert(6)>\n````\nb'
    const markdown = markdownOf({
      type: 'doc',
      content: [
        {
          type: 'codeBlock',
          attrs: { language: 'js\n```\n<img>' },
          content: [{ type: 'text', text: code }],
        },
        { type: 'codeBlock', attrs: { language: 'ts' }, content: [{ type: 'text', text: 'x' }] },
      ],
    })
    expect(markdown).toContain(`\`\`\`\`\`\n${code}\n\`\`\`\`\``)
    expect(markdown).toContain('```ts\nx\n```')
    expect(problemsOf(markdown)).toEqual([])
    expect(codeFenceFor('no ticks')).toBe('```')
  })

  it('writes an entity-encoded target so that no reader decodes it into a scheme', () => {
    expect(escapeMarkdownDestination('https://a.example/?a=1&b=2')).toBe(
      'https://a.example/?a=1&amp;b=2',
    )
    const doc = new Y.Doc()
    const p = new Y.XmlElement('paragraph')
    const run = new Y.XmlText()
    p.insert(0, [run])
    doc.getXmlFragment(RICH_TEXT_FRAGMENT).insert(0, [p])
    run.insert(0, 'entlink', { link: { href: '&#106;avascript:alert(1)' } })
    const markdown = docToMarkdown(doc)
    expect(markdown).not.toContain('avascript')
    expect(problemsOf(markdown)).toEqual([])
  })

  it('writes heading levels, list starts and task checks only as the schema allows', () => {
    const markdown = markdownOf({
      type: 'doc',
      content: [
        { type: 'heading', attrs: { level: 99 }, content: [{ type: 'text', text: 'h99' }] },
        {
          type: 'heading',
          attrs: { level: '1" onclick="x' },
          content: [{ type: 'text', text: 'hs' }],
        },
        {
          type: 'orderedList',
          attrs: { start: '1" onclick="x', type: 'x' },
          content: [{ type: 'listItem', content: [paragraph({ type: 'text', text: 'ol' })] }],
        },
        {
          type: 'taskList',
          content: [
            {
              type: 'taskItem',
              attrs: { checked: '" onclick="x' },
              content: [paragraph({ type: 'text', text: 'task' })],
            },
          ],
        },
      ],
    })
    expect(markdown).toBe('### h99\n\n# hs\n\n1. ol\n\n- [ ] task')
  })
})

describe('Markdown import', () => {
  it('refuses links whose target decodes to a scheme outside http, https and mailto', () => {
    for (const source of [
      '[x](&#106;avascript:alert(1))',
      '[x](java&#9;script:alert(1))',
      '[x](javascript&colon;alert(1))',
      '[x](&#x6A;avascript:alert(1))',
      '[x](//evil.example/x)',
      '[x](<javascript:alert(1)>)',
      '[x]: javascript:alert(1)\n\n[y][x]',
    ]) {
      const json = JSON.stringify(markdownToNode(source).toJSON())
      expect(json, source).not.toContain('"link"')
    }
    const kept = JSON.stringify(markdownToNode('[x](https://a.example/?a=1&amp;b=2)').toJSON())
    expect(kept).toContain('"href":"https://a.example/?a=1&b=2"')
  })

  it('drops NUL characters from the file', () => {
    expect(markdownToNode('a\u0000b').textContent).toBe('ab')
  })
})
