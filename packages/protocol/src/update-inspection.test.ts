import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { inspectUpdateV1, MAX_CLOCK } from './update-inspection.js'

const richDocumentUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  const fragment = doc.getXmlFragment('default')
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.setAttribute('level', '2')
  const text = new Y.XmlText('héllo wörld ✓')
  text.format(0, 3, { bold: true })
  paragraph.insert(0, [text])
  fragment.insert(0, [paragraph])
  doc.getMap('meta').set('any', { list: [1, 2.5, 'x', null, true, new Uint8Array([1, 2])] })
  doc.getArray('list').insert(0, [1, 'two', { three: 3 }])
  doc.getText('text').insert(0, 'abcdef')
  doc.getText('text').delete(1, 3)
  doc.getText('text').insertEmbed(1, { image: 'x.png' })
  return Y.encodeStateAsUpdate(doc)
}

describe('inspectUpdateV1', () => {
  it('accepts updates Yjs produces, with every kind of content', () => {
    const result = inspectUpdateV1(richDocumentUpdate())
    expect(result.ok).toBe(true)
  })

  it('accepts the empty update', () => {
    expect(inspectUpdateV1(Y.encodeStateAsUpdate(new Y.Doc())).ok).toBe(true)
  })

  it('refuses every truncation of a valid update', () => {
    const update = richDocumentUpdate()
    for (let length = 0; length < update.length; length++) {
      expect(inspectUpdateV1(update.slice(0, length)).ok).toBe(false)
    }
  })

  it('refuses trailing bytes', () => {
    const update = richDocumentUpdate()
    const longer = new Uint8Array(update.length + 1)
    longer.set(update)
    expect(inspectUpdateV1(longer)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('trailing'),
    })
  })

  it('refuses a struct count that the bytes cannot hold', () => {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 1) // one client
    encoding.writeVarUint(encoder, 2 ** 31) // claims 2^31 structs
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, 0)
    expect(inspectUpdateV1(encoding.toUint8Array(encoder)).ok).toBe(false)
  })

  it('refuses a garbage-collected run longer than the clock limit', () => {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarUint(encoder, 7) // client
    encoding.writeVarUint(encoder, 0) // clock
    encoding.writeUint8(encoder, 0) // GC struct
    encoding.writeVarUint(encoder, MAX_CLOCK * 4)
    encoding.writeVarUint(encoder, 0) // empty delete set
    expect(inspectUpdateV1(encoding.toUint8Array(encoder))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('over the limit'),
    })
  })

  it('refuses subdocuments', () => {
    const doc = new Y.Doc()
    doc.getMap('m').set('sub', new Y.Doc())
    expect(inspectUpdateV1(Y.encodeStateAsUpdate(doc))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('subdocuments'),
    })
  })

  it('never throws on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(1 + (i % 64)).map(() => Math.floor(Math.random() * 256))
      expect(() => inspectUpdateV1(bytes)).not.toThrow()
    }
  })
})

describe('JSON content depth', () => {
  it('refuses embeds nested deeper than the limit, and accepts shallow ones', () => {
    const deep = new Y.Doc()
    deep.getText('text').insertEmbed(0, JSON.parse(`${'['.repeat(40)}1${']'.repeat(40)}`) as object)
    expect(inspectUpdateV1(Y.encodeStateAsUpdate(deep))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('nested'),
    })
    const shallow = new Y.Doc()
    shallow.getText('text').insertEmbed(0, { image: { src: 'a.png', size: [1, 2] } })
    expect(inspectUpdateV1(Y.encodeStateAsUpdate(shallow)).ok).toBe(true)
  })
})
