import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docToText } from './document-export.js'
import { createImportConverter, type ImportConverter } from './import-converter.js'

const logger = pino({ level: 'silent' })

const textOf = (update: Uint8Array): string => {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, update)
  return docToText(doc)
}

describe('createImportConverter', () => {
  let converter: ImportConverter
  afterEach(async () => {
    await converter.close()
  })

  it('converts HTML and Markdown in its worker, one after the other', async () => {
    converter = createImportConverter({ logger })
    const [html, markdown] = await Promise.all([
      converter.convert('html', '<h1>Title</h1><p>body<script>x()</script></p>'),
      converter.convert('markdown', '# Notes\n\n- [x] done\n'),
    ])
    expect(textOf(html.update)).toBe('Title\n\nbody')
    expect(html.heading).toBe('Title')
    expect(textOf(markdown.update)).toBe('Notes\n\ndone')
    expect(markdown.heading).toBe('Notes')
  })

  it('refuses a file over maxBytes with CONTENT_TOO_LARGE', async () => {
    converter = createImportConverter({ logger, maxBytes: 100 })
    await expect(converter.convert('html', `<p>${'a'.repeat(200)}</p>`)).rejects.toMatchObject({
      name: 'ContentError',
      code: 'CONTENT_TOO_LARGE',
    })
  })

  it('stops a conversion past timeoutMs with CONTENT_TOO_COMPLEX', async () => {
    converter = createImportConverter({ logger, timeoutMs: 1 })
    await expect(
      converter.convert('html', '<p>slow enough</p>'.repeat(20_000)),
    ).rejects.toMatchObject({ code: 'CONTENT_TOO_COMPLEX' })
  })
})
