import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeStateInPieces } from './chunked-state.js'

/** A document edited by three clients, with deletions and formatting, as editing leaves one. */
const makeEditedDocument = (): Y.Doc => {
  const doc = new Y.Doc()
  const peers = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  for (let round = 0; round < 300; round++) {
    const peer = peers[round % peers.length] as Y.Doc
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(doc))
    const text = peer.getText('text')
    const at = (round * 7919) % (text.length + 1)
    text.insert(at, `round ${round} writes here. `)
    if (round % 5 === 0 && text.length > 20) text.delete(at, 7)
    if (round % 11 === 0) text.format(0, 5, { bold: true })
    peer.getMap('meta').set(`k${round % 13}`, round)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer))
  }
  return doc
}

describe('encodeStateInPieces', () => {
  it('splits the state into bounded pieces that rebuild the same document in any arrival order', () => {
    const doc = makeEditedDocument()
    const whole = Y.encodeStateAsUpdate(doc)
    const pieces = encodeStateInPieces(doc, 1024)

    expect(pieces.length).toBeGreaterThan(3)
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeLessThan(2 * 1024)

    for (const order of [pieces, [...pieces].reverse()]) {
      const copy = new Y.Doc()
      for (const piece of order) Y.applyUpdate(copy, piece)
      expect(copy.getText('text').toDelta()).toEqual(doc.getText('text').toDelta())
      expect(copy.getMap('meta').toJSON()).toEqual(doc.getMap('meta').toJSON())
      expect(copy.store.pendingStructs).toBeNull()
      expect(Y.encodeStateVector(copy)).toEqual(Y.encodeStateVector(doc))
    }
    expect(whole.length).toBeGreaterThan(1024)
  })

  it('gives a small document as one piece plus its delete set', () => {
    const doc = new Y.Doc()
    doc.getText('text').insert(0, 'short')
    const pieces = encodeStateInPieces(doc, 64 * 1024)
    expect(pieces).toHaveLength(2)
    const copy = new Y.Doc()
    for (const piece of pieces) Y.applyUpdate(copy, piece)
    expect(copy.getText('text').toString()).toBe('short')
  })
})
