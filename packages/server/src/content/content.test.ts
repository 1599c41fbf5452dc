import type { JSONContent } from '@tiptap/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import {
  ContentError,
  docToHtml,
  docToJson,
  docToMarkdown,
  docToText,
  documentSchema,
  firstHeadingText,
  htmlToNode,
  htmlToUpdate,
  markdownToUpdate,
  nodeToUpdate,
} from './index.js'
import { toDocumentNode } from './document-node.js'

const docOf = (update: Uint8Array): Y.Doc => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return doc
}

const text = (value: string, marks?: JSONContent['marks']): JSONContent =>
  marks === undefined ? { type: 'text', text: value } : { type: 'text', text: value, marks }
const paragraph = (...content: JSONContent[]): JSONContent => ({ type: 'paragraph', content })

/** One of every node and mark type of the schema, with every attribute a person can set. */
const EVERY_TYPE: JSONContent = {
  type: 'doc',
  content: [
    { type: 'heading', attrs: { level: 1 }, content: [text('Title')] },
    { type: 'heading', attrs: { level: 2 }, content: [text('Section')] },
    { type: 'heading', attrs: { level: 3 }, content: [text('Part')] },
    paragraph(
      text('plain '),
      text('bold', [{ type: 'bold' }]),
      text(' '),
      text('italic', [{ type: 'italic' }]),
      text(' '),
      text('struck', [{ type: 'strike' }]),
      text(' '),
      text('code', [{ type: 'code' }]),
      text(' '),
      text('link', [{ type: 'link', attrs: { href: 'https://example.com/a' } }]),
      { type: 'hardBreak' },
      text('after the break'),
    ),
    {
      type: 'bulletList',
      content: [
        { type: 'listItem', content: [paragraph(text('one'))] },
        { type: 'listItem', content: [paragraph(text('two'))] },
      ],
    },
    {
      type: 'orderedList',
      content: [
        { type: 'listItem', content: [paragraph(text('first'))] },
        { type: 'listItem', content: [paragraph(text('second'))] },
      ],
    },
    {
      type: 'taskList',
      content: [
        { type: 'taskItem', attrs: { checked: true }, content: [paragraph(text('done'))] },
        { type: 'taskItem', attrs: { checked: false }, content: [paragraph(text('to do'))] },
      ],
    },
    { type: 'blockquote', content: [paragraph(text('quoted'))] },
    { type: 'codeBlock', attrs: { language: 'typescript' }, content: [text('const a = 1')] },
    { type: 'horizontalRule' },
    paragraph(text('end')),
  ],
}

/** Every node and mark type name used in a JSON document. */
const typesIn = (json: JSONContent): Set<string> => {
  const types = new Set<string>()
  const visit = (node: JSONContent): void => {
    if (node.type !== undefined) types.add(node.type)
    for (const mark of node.marks ?? []) types.add(mark.type)
    for (const child of node.content ?? []) visit(child)
  }
  visit(json)
  return types
}

const everyTypeDoc = (): Y.Doc => docOf(nodeToUpdate(toDocumentNode(documentSchema(), EVERY_TYPE)))

describe('the round-trip document', () => {
  it('uses every node and mark type of the schema', () => {
    const schema = documentSchema()
    expect([...typesIn(EVERY_TYPE)].sort()).toEqual(
      [...Object.keys(schema.nodes), ...Object.keys(schema.marks)].sort(),
    )
  })
})

describe('docToJson', () => {
  it('reads the rich-text fragment as the editor JSON, every type and attribute kept', () => {
    const json = docToJson(everyTypeDoc())
    expect(typesIn(json)).toEqual(typesIn(EVERY_TYPE))
    expect(
      toDocumentNode(documentSchema(), json).eq(toDocumentNode(documentSchema(), EVERY_TYPE)),
    ).toBe(true)
    expect(JSON.stringify(json)).toContain('"language":"typescript"')
    expect(JSON.stringify(json)).toContain('"checked":true')
  })

  it('reads a document with no rich text as one empty paragraph', () => {
    expect(docToJson(new Y.Doc())).toEqual({ type: 'doc', content: [{ type: 'paragraph' }] })
  })

  it('leaves out what the schema cannot hold, keeping its text, without changing the document', () => {
    const doc = everyTypeDoc()
    const foreign = new Y.XmlElement('tableOfDoom')
    foreign.insert(0, [new Y.XmlText('kept text')])
    doc.getXmlFragment(RICH_TEXT_FRAGMENT).insert(0, [foreign])
    const before = Y.encodeStateAsUpdate(doc)
    const json = docToJson(doc)
    expect(json.content?.[0]).toEqual(paragraph(text('kept text')))
    expect(JSON.stringify(json)).not.toContain('tableOfDoom')
    expect(typesIn(json)).toEqual(typesIn(EVERY_TYPE))
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })
})

describe('docToHtml', () => {
  it('escapes text and leaves out links a client wrote into the document with a bad scheme', () => {
    const doc = new Y.Doc()
    const paragraph = new Y.XmlElement('paragraph')
    const run = new Y.XmlText()
    paragraph.insert(0, [run])
    doc.getXmlFragment(RICH_TEXT_FRAGMENT).insert(0, [paragraph])
    run.insert(0, '<script>alert(1)</script> ')
    run.insert(run.length, 'click', { link: { href: 'javascript:alert(2)' } })
    run.insert(run.length, ' ok', { link: { href: 'https://ok.example/', onclick: 'x()' } })

    const html = docToHtml(doc)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).not.toContain('javascript')
    expect(html).not.toContain('onclick')
    expect(html).toContain('click<a')
    expect(html).toContain('href="https://ok.example/"')
  })
})

describe('HTML round trip', () => {
  it('keeps every node and mark type: html → document → html', () => {
    const html = docToHtml(everyTypeDoc())
    const again = docToHtml(docOf(htmlToUpdate(html)))
    expect(again).toBe(html)
    expect(typesIn(docToJson(docOf(htmlToUpdate(html))))).toEqual(typesIn(EVERY_TYPE))
  })

  it('renders the elements a reader expects', () => {
    const html = docToHtml(everyTypeDoc())
    for (const fragment of [
      '<h1>Title</h1>',
      '<h2>Section</h2>',
      '<h3>Part</h3>',
      '<strong>bold</strong>',
      '<em>italic</em>',
      '<s>struck</s>',
      '<code>code</code>',
      'href="https://example.com/a"',
      '<br/>',
      '<ol>',
      '<blockquote>',
      '<pre><code class="language-typescript">const a = 1</code></pre>',
      '<hr/>',
      'data-checked="true"',
    ]) {
      expect(html).toContain(fragment)
    }
  })
})

describe('Markdown round trip', () => {
  it('keeps every node and mark type: markdown → document → markdown', () => {
    const markdown = docToMarkdown(everyTypeDoc())
    const doc = docOf(markdownToUpdate(markdown))
    expect(docToMarkdown(doc)).toBe(markdown)
    expect(typesIn(docToJson(doc))).toEqual(typesIn(EVERY_TYPE))
    expect(docToJson(doc)).toEqual(docToJson(everyTypeDoc()))
  })

  it('reads GitHub task lists, fenced code with a language and hard breaks', () => {
    const doc = docOf(markdownToUpdate('- [x] done\n- [ ] open\n\n```js\nlet a\n```\n\na  \nb\n'))
    const json = JSON.stringify(docToJson(doc))
    expect(json).toContain('"checked":true')
    expect(json).toContain('"checked":false')
    expect(json).toContain('"language":"js"')
    expect(json).toContain('hardBreak')
  })
})

describe('Markdown tables', () => {
  it('keeps a table as one paragraph per row, the schema having no table', () => {
    const doc = docOf(
      markdownToUpdate('| Name | Role |\n|---|---|\n| **Ada** | [owner](https://a.example/) |\n'),
    )
    expect(docToText(doc)).toBe('Name | Role\n\nAda | owner')
    expect(docToHtml(doc)).toContain('<strong>Ada</strong>')
    expect(docToHtml(doc)).toContain('href="https://a.example/"')
  })
})

describe('docToText', () => {
  it('gives the text with blank lines between blocks and no markup', () => {
    const result = docToText(everyTypeDoc())
    expect(result).toContain('Title\n\nSection')
    expect(result).toContain('plain bold italic struck code link\nafter the break')
    expect(result).not.toContain('<')
    expect(result).not.toContain('**')
  })
})

describe('import sanitisation', () => {
  const hostile = [
    '<h1 onclick="steal()" style="color:red" class="x" id="y">Heading</h1>',
    '<p style="background:url(http://evil.example/t.png)">styled <b onmouseover="x()">bold</b></p>',
    '<script>alert("script")</script>',
    '<p><img src="http://evil.example/pixel.png" onerror="alert(\'img\')">after image</p>',
    '<iframe src="http://evil.example/frame"><p>frame fallback</p></iframe>',
    '<p><a href="javascript:alert(1)">js link</a> <a href="java&#9;script:alert(2)">tab link</a></p>',
    '<p><a href="data:text/html,x">data link</a> <a href="https://ok.example/" target="_self" onclick="x()">ok</a></p>',
    '<style>p { display: none }</style><noscript>no script</noscript><svg><text>svg text</text></svg>',
    '<object data="http://evil.example/o"></object><embed src="http://evil.example/e">',
  ].join('')

  it('keeps the text and drops scripts, handlers, styles, frames, images and unsafe links', () => {
    const html = docToHtml(docOf(htmlToUpdate(hostile)))
    expect(html).toContain('<h1>Heading</h1>')
    expect(html).toContain('styled <strong>bold</strong>')
    expect(html).toContain('after image')
    for (const gone of [
      '<script',
      'alert',
      'onclick',
      'onmouseover',
      'onerror',
      'style=',
      '<style',
      'class="x"',
      'id="y"',
      '<img',
      'evil.example',
      '<iframe',
      'frame fallback',
      'javascript',
      'data:',
      'no script',
      'svg text',
      '_self',
    ]) {
      expect(html).not.toContain(gone)
    }
    expect(html).toContain('js link')
    expect(html).toContain('href="https://ok.example/"')
    expect(html).toContain('target="_blank"')
    expect(html).toContain('rel="noopener noreferrer nofollow"')
  })

  it('drops unsafe links from Markdown and keeps raw HTML only as text', () => {
    const markdown = [
      '[js](javascript:alert(1)) [ok](https://ok.example/) [data](data:text/html,x)',
      '',
      '![pixel](http://evil.example/pixel.png)',
      '',
      '<script>alert("x")</script>',
      '',
    ].join('\n')
    const doc = docOf(markdownToUpdate(markdown))
    const html = docToHtml(doc)
    expect(html).not.toContain('javascript')
    expect(html).not.toContain('data:')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('evil.example')
    expect(html).not.toContain('<script')
    expect(html).toContain('href="https://ok.example/"')
    expect(docToText(doc)).toContain('<script>alert("x")</script>')
  })

  it('refuses input over the size limit with CONTENT_TOO_LARGE', () => {
    const big = `<p>${'a'.repeat(2000)}</p>`
    expect(() => htmlToUpdate(big, { maxBytes: 1000 })).toThrowError(ContentError)
    expect(() => markdownToUpdate('é'.repeat(600), { maxBytes: 1000 })).toThrow(
      expect.objectContaining({ code: 'CONTENT_TOO_LARGE' }),
    )
  })

  it('gives an empty document one empty paragraph', () => {
    expect(docToJson(docOf(htmlToUpdate('')))).toEqual({
      type: 'doc',
      content: [{ type: 'paragraph' }],
    })
    expect(docToJson(docOf(markdownToUpdate('')))).toEqual({
      type: 'doc',
      content: [{ type: 'paragraph' }],
    })
  })
})

describe('the update', () => {
  it('gives two documents the content once each, and once when applied twice', () => {
    const update = htmlToUpdate('<p>only once</p>')
    const doc = docOf(update)
    Y.applyUpdate(doc, update)
    expect(docToText(doc)).toBe('only once')
  })
})

describe('firstHeadingText', () => {
  it('finds the first non-empty heading at any depth', () => {
    expect(
      firstHeadingText(htmlToNode('<p>intro</p><h1> </h1><h2>  Plan  </h2><h1>Later</h1>')),
    ).toBe('Plan')
    expect(firstHeadingText(htmlToNode('<p>no heading</p>'))).toBeNull()
  })
})
