import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createContentRenderer, type ContentRenderer } from './content-renderer.js'

const logger = pino({ level: 'silent' })

const stateWith = (paragraphs: number): Uint8Array => {
  const doc = new Y.Doc()
  doc.getXmlFragment('default').insert(
    0,
    Array.from({ length: paragraphs }, (_, i) => {
      const paragraph = new Y.XmlElement('paragraph')
      paragraph.insert(0, [new Y.XmlText(`p${i}`)])
      return paragraph
    }),
  )
  return Y.encodeStateAsUpdate(doc)
}

describe('createContentRenderer (worker pool)', () => {
  let renderer: ContentRenderer
  afterEach(async () => {
    await renderer.close()
  })

  it('renders every format in its worker', async () => {
    renderer = createContentRenderer({ logger })
    const state = [stateWith(2)]
    await expect(renderer.render('html', state)).resolves.toBe('<p>p0</p><p>p1</p>')
    await expect(renderer.render('markdown', state)).resolves.toBe('p0\n\np1')
    await expect(renderer.render('text', state)).resolves.toBe('p0\n\np1')
    expect(JSON.parse(await renderer.render('json', state))).toMatchObject({ type: 'doc' })
    const merged = await renderer.merge([stateWith(1), stateWith(1)], { gc: false })
    await expect(renderer.render('text', [merged.state])).resolves.toBe('p0\n\np0')
    expect(merged.stateVector).toEqual(Y.encodeStateVectorFromUpdate(merged.state))
  })

  it('refuses past maxQueued with WORKER_BUSY and past timeoutMs with WORKER_TIMEOUT', async () => {
    renderer = createContentRenderer({ logger, maxQueued: 1, timeoutMs: 20_000 })
    const state = [stateWith(1)]
    const running = renderer.render('text', state)
    const queued = renderer.render('text', state)
    await expect(renderer.render('text', state)).rejects.toMatchObject({ code: 'WORKER_BUSY' })
    await expect(Promise.all([running, queued])).resolves.toEqual(['p0', 'p0'])
    await renderer.close()

    renderer = createContentRenderer({ logger, timeoutMs: 1 })
    await expect(renderer.render('markdown', [stateWith(5_000)])).rejects.toMatchObject({
      name: 'WorkerPoolError',
      code: 'WORKER_TIMEOUT',
    })
  })
})
