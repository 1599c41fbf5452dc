/**
 * The y-websocket protocol end to end with y-websocket's own provider:
 * sync, edits both ways, presence, and presence removal when a client
 * leaves cleanly or vanishes without a close frame.
 */
import { randomUUID } from 'node:crypto'
import * as encoding from 'lib0/encoding'
import { encodeAwarenessMessage, encodeAwarenessUpdate, MessageType } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, RawClient } from '../support/clients.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (): string => `sync-${randomUUID().slice(0, 8)}`

describe('sync with y-websocket providers', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ store: 'embedded', flags: { pingIntervalMs: '200' } })
  })
  afterAll(() => server.dispose())

  it('syncs edits both ways between two providers', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    const b = await connectProvider(server.wsUrl, docId)
    a.doc.getText('text').insert(0, 'from a ')
    await waitUntil(() => b.doc.getText('text').toString() === 'from a ', 'a → b')
    b.doc.getText('text').insert(7, 'and b')
    await waitUntil(() => a.doc.getText('text').toString() === 'from a and b', 'b → a')
    a.destroy()
    b.destroy()
  })

  it('gives a late joiner the whole document, including rich content and deletions', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    const fragment = a.doc.getXmlFragment('default')
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('hello world')])
    fragment.insert(0, [paragraph])
    a.doc.getText('text').insert(0, 'abcdef')
    a.doc.getText('text').delete(1, 2)
    const late = await connectProvider(server.wsUrl, docId)
    await waitUntil(
      () => Y.equalSnapshots(Y.snapshot(a.doc), Y.snapshot(late.doc)),
      'late joiner to match the first client',
    )
    expect(late.doc.getText('text').toString()).toBe('adef')
    expect(late.doc.getXmlFragment('default').toString()).toBe('<paragraph>hello world</paragraph>')
    a.destroy()
    late.destroy()
  })

  it('does not echo an update back to its sender', async () => {
    const docId = newDocId()
    const raw = await RawClient.open(server.wsUrl, docId)
    const other = await connectProvider(server.wsUrl, docId)
    await waitUntil(() => raw.received.length >= 1, 'server greeting')
    const source = new Y.Doc()
    source.getText('text').insert(0, 'x')
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, Y.encodeStateAsUpdate(source))
    const before = raw.received.length
    raw.send(encoding.toUint8Array(encoder))
    await waitUntil(() => other.doc.getText('text').toString() === 'x', 'relay to the other client')
    const syncUpdates = raw.received
      .slice(before)
      .filter((frame) => frame[0] === 0 && frame[1] === 2)
    expect(syncUpdates).toHaveLength(0)
    raw.close()
    other.destroy()
  })

  it('shares presence and removes it when a client disconnects', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    const b = await connectProvider(server.wsUrl, docId)
    b.provider.awareness.setLocalStateField('user', { name: 'Bea' })
    await waitUntil(
      () =>
        (
          a.provider.awareness.getStates().get(b.doc.clientID) as
            { user?: { name: string } } | undefined
        )?.user?.name === 'Bea',
      'a to see b',
    )
    b.destroy()
    await waitUntil(
      () => !a.provider.awareness.getStates().has(b.doc.clientID),
      'b to be gone for a',
      5_000,
    )
    a.destroy()
  })

  it('removes the presence of a client that vanishes without a close frame', async () => {
    const docId = newDocId()
    const watcher = await connectProvider(server.wsUrl, docId)
    const ghost = await RawClient.open(server.wsUrl, docId)
    const ghostClientId = 424242
    ghost.send(
      encodeAwarenessMessage(
        encodeAwarenessUpdate([
          { clientId: ghostClientId, clock: 1, state: { user: { name: 'Ghost' } } },
        ]),
      ),
    )
    await waitUntil(
      () => watcher.provider.awareness.getStates().has(ghostClientId),
      'ghost presence',
    )
    // Stop reading: the client can no longer answer pings, as when a laptop
    // lid closes or a network drops packets. No close frame is ever sent.
    const socket = (ghost.socket as unknown as { _socket: { pause(): void } })._socket
    socket.pause()
    const startedAt = Date.now()
    await waitUntil(
      () => !watcher.provider.awareness.getStates().has(ghostClientId),
      'ghost removal',
      5_000,
    )
    // Two ping rounds of 200 ms at most, plus scheduling slack.
    expect(Date.now() - startedAt).toBeLessThan(2_000)
    watcher.destroy()
    ghost.socket.terminate()
  })

  it('refuses a client writing presence for a client id another session owns', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' })
    const intruder = await RawClient.open(server.wsUrl, docId)
    const watcher = await connectProvider(server.wsUrl, docId)
    await waitUntil(
      () => watcher.provider.awareness.getStates().has(a.doc.clientID),
      'watcher sees Ann',
    )
    const ownClock = a.provider.awareness.meta.get(a.doc.clientID)?.clock ?? 0
    intruder.send(
      encodeAwarenessMessage(
        encodeAwarenessUpdate([
          { clientId: a.doc.clientID, clock: ownClock + 10, state: { user: { name: 'Mallory' } } },
        ]),
      ),
    )
    // A query round trip orders after the intruder's message on the server.
    intruder.send(new Uint8Array([MessageType.QueryAwareness]))
    await waitUntil(
      () => intruder.received.some((f) => f[0] === MessageType.Awareness),
      'query answer',
    )
    const seen = watcher.provider.awareness.getStates().get(a.doc.clientID) as {
      user: { name: string }
    }
    expect(seen.user.name).toBe('Ann')
    a.destroy()
    watcher.destroy()
    intruder.close()
  })

  it('answers a query for presence with every present state', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' })
    const b = await connectProvider(server.wsUrl, docId)
    await waitUntil(
      () => b.provider.awareness.getStates().has(a.doc.clientID),
      'b sees a after joining',
    )
    a.destroy()
    b.destroy()
  })
})
