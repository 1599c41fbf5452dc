/**
 * Saved acknowledgements (SAVE-1..3) and the cap on updates parked for
 * missing dependencies (DOC-4), seen from raw sockets that send updates made
 * from a local `Y.Doc`.
 */
import { randomUUID } from 'node:crypto'
import {
  CloseCode,
  encodeSyncStep2,
  encodeSyncUpdate,
  MessageType,
  QuireMessageType,
} from '@quire/protocol'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type WebSocket from 'ws'
import * as Y from 'yjs'
import { connectProvider, type ProviderClient, RawClient } from '../support/clients.js'
import { captureUpdates, roundTrip, savedCounts, waitForSaved } from '../support/frames.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

/** An update that adds nothing: no structs, no deletions. */
const EMPTY_UPDATE = new Uint8Array([0, 0])

/** `count` updates, one per transaction, each appending one character. */
const typedUpdates = (count: number): Uint8Array[] => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  return captureUpdates(doc, () => {
    for (let i = 0; i < count; i++) text.insert(text.length, String.fromCharCode(97 + (i % 26)))
  })
}

/**
 * Waits until every append made so far on `docId` has settled: a message
 * that adds nothing is acknowledged only after every earlier append
 * (SAVE-2), so an acknowledgement owed to anyone is out by then.
 */
const waitForAppendsToSettle = async (wsUrl: string, docId: string): Promise<void> => {
  const barrier = await RawClient.open(wsUrl, docId, { saved: true })
  barrier.send(encodeSyncUpdate(EMPTY_UPDATE))
  await waitForSaved(barrier, 1)
  barrier.close()
}

const isNonDecreasing = (values: readonly number[]): boolean =>
  values.every((value, i) => i === 0 || value >= (values[i - 1] as number))

describe('saved acknowledgements (SAVE-1..3)', () => {
  let server: TestServer
  const openSockets: { close(): void }[] = []
  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres' })
  })
  afterEach(() => {
    for (const socket of openSockets.splice(0)) socket.close()
    vi.restoreAllMocks()
  })
  afterAll(() => server?.dispose())

  const open = async (docId: string, options: { saved?: boolean } = {}): Promise<RawClient> => {
    const client = await RawClient.open(server.wsUrl, docId, options)
    openSockets.push(client)
    return client
  }

  it('acknowledges N updates with [100, 0, n] up to N, never going back (SAVE-2)', async () => {
    const updates = typedUpdates(40)
    const client = await open(newDocId('saved'), { saved: true })

    // Two bursts, so that at least two acknowledgements go out.
    for (const update of updates.slice(0, 15)) client.send(encodeSyncUpdate(update))
    await waitForSaved(client, 15)
    for (const update of updates.slice(15)) client.send(encodeSyncUpdate(update))
    await waitForSaved(client, updates.length)

    const acks = client.received.filter((frame) => frame[0] === MessageType.Quire)
    expect(acks.length).toBeGreaterThanOrEqual(2)
    for (const frame of acks) expect(frame[1]).toBe(QuireMessageType.Saved)
    const counts = savedCounts(client)
    expect(isNonDecreasing(counts)).toBe(true)
    expect(counts.at(-1)).toBe(updates.length)
    expect(Math.max(...counts)).toBe(updates.length)
  })

  it('never sends a Quire message to a raw client that did not ask (SAVE-1)', async () => {
    const docId = newDocId('unsaved')
    const client = await open(docId)
    for (const update of typedUpdates(10)) client.send(encodeSyncUpdate(update))
    await roundTrip(client)
    await waitForAppendsToSettle(server.wsUrl, docId)
    await roundTrip(client)
    expect(client.received.filter((frame) => frame[0] === MessageType.Quire)).toEqual([])
  })

  it('serves a stock provider without params with no unknown messages (SAVE-1)', async () => {
    const consoleError = vi.spyOn(console, 'error')
    const docId = newDocId('stock')
    const a = await connectProvider(server.wsUrl, docId)
    const b = await connectProvider(server.wsUrl, docId)
    const clients: ProviderClient[] = [a, b]
    const quireFrames: Uint8Array[] = []
    for (const client of clients) {
      const socket = client.provider.ws as unknown as WebSocket
      socket.on('message', (data: Buffer) => {
        if (data[0] === MessageType.Quire) quireFrames.push(new Uint8Array(data))
      })
    }
    try {
      for (let i = 0; i < 10; i++) a.doc.getText('text').insert(0, 'a')
      await waitUntil(() => b.doc.getText('text').length === 10, "a's edits at b")
      await waitForAppendsToSettle(server.wsUrl, docId)
      // b's edit is relayed to a after anything owed to a for its own edits.
      b.doc.getText('text').insert(0, 'b')
      const expected = `b${'a'.repeat(10)}`
      await waitUntil(() => a.doc.getText('text').toString() === expected, "b's edit at a")
      await waitForAppendsToSettle(server.wsUrl, docId)
      a.doc.getText('text').insert(0, 'c')
      await waitUntil(() => b.doc.getText('text').toString().startsWith('cb'), "a's last edit at b")

      expect(quireFrames).toEqual([])
      const unknownMessageLogs = consoleError.mock.calls.filter((args) =>
        String(args[0]).includes('Unable to compute message'),
      )
      expect(unknownMessageLogs).toEqual([])
    } finally {
      a.destroy()
      b.destroy()
    }
  })

  it('acknowledges messages that add nothing new, update and step 2 alike (SAVE-2)', async () => {
    const [update] = typedUpdates(1)
    if (update === undefined) throw new Error('no update captured')
    const client = await open(newDocId('dup'), { saved: true })
    client.send(encodeSyncUpdate(update))
    await waitForSaved(client, 1)
    client.send(encodeSyncUpdate(update))
    await waitForSaved(client, 2)
    client.send(encodeSyncStep2(update))
    client.send(encodeSyncUpdate(EMPTY_UPDATE))
    await waitForSaved(client, 4)
    expect(isNonDecreasing(savedCounts(client))).toBe(true)
    expect(client.closeCode).toBeNull()
  })

  it('acknowledges a parked update only once what it depends on is stored (SAVE-3)', async () => {
    const docId = newDocId('parked')
    const source = new Y.Doc()
    const text = source.getText('text')
    const [first, second] = captureUpdates(source, () => {
      text.insert(0, 'A')
      text.insert(1, 'B')
    })
    if (first === undefined || second === undefined) throw new Error('updates not captured')
    const client = await open(docId, { saved: true })

    // B alone: Yjs parks it, since its left neighbour A is missing.
    client.send(encodeSyncUpdate(second))
    await roundTrip(client)
    // Another socket's update is stored after B was handled; an ack owed
    // for B would have gone out before this one.
    const other = await open(docId, { saved: true })
    other.send(encodeSyncUpdate(typedUpdates(1)[0] as Uint8Array))
    await waitForSaved(other, 1)
    await roundTrip(client)
    expect(savedCounts(client)).toEqual([])

    // A integrates B: both are acknowledged together.
    client.send(encodeSyncUpdate(first))
    await waitForSaved(client, 2)
    expect(savedCounts(client).every((count) => count === 2)).toBe(true)
    const reader = await connectProvider(server.wsUrl, docId)
    expect(reader.doc.getText('text').toString()).toContain('AB')
    reader.destroy()
  })

  // Known server bug, see the report: Yjs merges a second parked update into
  // the existing `store.pendingStructs` object in place; room.ts's identity
  // check does not see it as parked and hands it `lastAppend` as its
  // durability, so it is acknowledged though nothing of it is stored.
  it('acknowledges no update parked after another socket parked one (SAVE-3)', async () => {
    const docId = newDocId('parked-join')
    const source = new Y.Doc()
    const text = source.getText('text')
    const [first, second, third] = captureUpdates(source, () => {
      for (const char of 'ABC') text.insert(text.length, char)
    })
    if (first === undefined || second === undefined || third === undefined) {
      throw new Error('updates not captured')
    }
    const earlier = await open(docId, { saved: true })
    earlier.send(encodeSyncUpdate(second))
    await roundTrip(earlier)
    const later = await open(docId, { saved: true })
    later.send(encodeSyncUpdate(third))
    await roundTrip(later)
    await waitForAppendsToSettle(server.wsUrl, docId)
    await roundTrip(later)
    expect(savedCounts(later)).toEqual([])

    earlier.send(encodeSyncUpdate(first))
    await waitForSaved(earlier, 2)
    await waitForSaved(later, 1)
  })
})

describe('the cap on parked updates (DOC-4)', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { maxPendingUpdateBytes: '2048' },
    })
  })
  afterAll(() => server?.dispose())

  /** Updates that all depend on a first update that is never sent. */
  const parkedUpdates = (count: number, bytesEach: number): Uint8Array[] => {
    const source = new Y.Doc()
    const text = source.getText('text')
    const updates = captureUpdates(source, () => {
      text.insert(0, 'root')
      for (let i = 0; i < count; i++) text.insert(text.length, String(i % 10).repeat(bytesEach))
    })
    return updates.slice(1)
  }

  /** Two providers on `docId`, and how often either lost its connection. */
  const connectWatchers = async (docId: string) => {
    const writer = await connectProvider(server.wsUrl, docId)
    const reader = await connectProvider(server.wsUrl, docId)
    const counter = { disconnects: 0 }
    for (const client of [writer, reader]) {
      client.provider.on('connection-close', () => (counter.disconnects += 1))
    }
    const expectUnaffected = async (): Promise<void> => {
      writer.doc.getText('text').insert(0, 'still here')
      await waitUntil(
        () => reader.doc.getText('text').toString() === 'still here',
        'an edit after the overflow to reach the reader',
      )
      expect(counter.disconnects).toBe(0)
    }
    const destroy = (): void => {
      writer.destroy()
      reader.destroy()
    }
    return { expectUnaffected, destroy }
  }

  it('closes with 4503 a socket whose parked update alone exceeds the cap', async () => {
    const docId = newDocId('pending-one')
    const watchers = await connectWatchers(docId)
    try {
      const client = await RawClient.open(server.wsUrl, docId, { saved: true })
      const [parked] = parkedUpdates(1, 3000)
      client.send(encodeSyncUpdate(parked as Uint8Array))
      await waitUntil(() => client.closeCode !== null, 'the overflowing socket to close')
      expect(client.closeCode).toBe(CloseCode.Unavailable)
      expect(client.closeReason).toMatch(/missing dependencies/)
      expect(savedCounts(client)).toEqual([])
      await watchers.expectUnaffected()
    } finally {
      watchers.destroy()
    }
  })

  // Known server bug, see the report: Yjs merges a further parked update into
  // `store.pendingStructs` in place, so room.ts's identity check
  // (`pendingStructs !== pendingBefore`) sees nothing new and never checks
  // the cap again. Short deadlines: with the bug the close never comes.
  it('closes with 4503 the socket whose parked updates add up past the cap', async () => {
    const docId = newDocId('pending-sum')
    const watchers = await connectWatchers(docId)
    try {
      const client = await RawClient.open(server.wsUrl, docId, { saved: true })
      const updates = parkedUpdates(8, 600)
      expect(updates.reduce((sum, update) => sum + update.length, 0)).toBeGreaterThan(2048)
      for (const update of updates) client.send(encodeSyncUpdate(update))
      await waitUntil(() => client.closeCode !== null, 'the overflowing socket to close', 2_000)
      expect(client.closeCode).toBe(CloseCode.Unavailable)
      expect(savedCounts(client)).toEqual([])
      await watchers.expectUnaffected()
    } finally {
      watchers.destroy()
    }
  })

  // Same bug: the second socket's update joins the parked set in place.
  it('closes the other sockets whose updates were parked with 4503', async () => {
    const docId = newDocId('pending-others')
    const watchers = await connectWatchers(docId)
    try {
      const [first, second] = parkedUpdates(2, 3000)
      const small = await RawClient.open(server.wsUrl, docId, { saved: true })
      small.send(encodeSyncUpdate(parkedUpdates(1, 100)[0] as Uint8Array))
      await roundTrip(small)
      const big = await RawClient.open(server.wsUrl, docId, { saved: true })
      big.send(encodeSyncUpdate(first as Uint8Array))
      big.send(encodeSyncUpdate(second as Uint8Array))
      await waitUntil(() => big.closeCode !== null, 'the overflowing socket to close', 2_000)
      expect(big.closeCode).toBe(CloseCode.Unavailable)
      await waitUntil(() => small.closeCode !== null, 'the other parked socket to close', 2_000)
      expect(small.closeCode).toBe(CloseCode.Unavailable)
      expect(savedCounts(small)).toEqual([])
      await watchers.expectUnaffected()
    } finally {
      watchers.destroy()
    }
  })
})
