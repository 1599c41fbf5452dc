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

  it('shows a client that reconnects again at once, though peers echoed its removal', async () => {
    const docId = newDocId()
    const a = await connectProvider(server.wsUrl, docId)
    const b = await connectProvider(server.wsUrl, docId)
    a.provider.awareness.setLocalStateField('user', { name: 'Ann' })
    b.provider.awareness.setLocalStateField('user', { name: 'Bea' })
    const aSeesB = (): boolean => a.provider.awareness.getStates().has(b.doc.clientID)
    await waitUntil(aSeesB, 'a to see b')
    // b's connection drops; the server removes b, a's provider hears the
    // removal and (as y-websocket providers do) echoes it to the server.
    b.provider.disconnect()
    await waitUntil(() => !aSeesB(), 'b to be gone for a', 5_000)
    // Another client's echo of the removal and, late, of b's last state,
    // with the clocks it heard, reach the server before b is back.
    const echoer = await RawClient.open(server.wsUrl, docId)
    const removalClock = a.provider.awareness.meta.get(b.doc.clientID)?.clock ?? 0
    echoer.send(
      encodeAwarenessMessage(
        encodeAwarenessUpdate([
          { clientId: b.doc.clientID, clock: removalClock, state: null },
          { clientId: b.doc.clientID, clock: removalClock, state: { user: { name: 'Bea' } } },
        ]),
      ),
    )
    echoer.send(new Uint8Array([MessageType.QueryAwareness]))
    await waitUntil(
      () => echoer.received.filter((f) => f[0] === MessageType.Awareness).length >= 2,
      'the echo handled',
    )
    // The provider dropped a's state but kept its clock, so the server's
    // snapshot (same clock) would be ignored until a's 15 s renewal; the web
    // app forgets those clocks on disconnect, and so does this client.
    const awareness = b.provider.awareness
    for (const id of [...awareness.meta.keys()]) {
      if (id !== b.doc.clientID && !awareness.states.has(id)) awareness.meta.delete(id)
    }
    // b comes back and renews its state, as the web app does on every
    // connection: a sees it well before y-websocket's 15 s renewal.
    b.provider.connect()
    await waitUntil(() => b.provider.wsconnected, 'b reconnected')
    const backAt = Date.now()
    b.provider.awareness.setLocalState(b.provider.awareness.getLocalState())
    await waitUntil(aSeesB, 'a to see b again', 5_000)
    expect(Date.now() - backAt).toBeLessThan(2_000)
    await waitUntil(
      () => b.provider.awareness.getStates().has(a.doc.clientID),
      'b to see a again',
      5_000,
    )
    a.destroy()
    b.destroy()
    echoer.close()
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
