import * as encoding from 'lib0/encoding'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { AppendedUpdate, DocumentStore, UpdateRecord } from '../store/index.js'
import { createStoreLog } from '../bus/index.js'
import { Room, type RoomMember } from './room.js'

/** A store that keeps appends in memory and commits them when told to. */
const memoryStore = (): DocumentStore & { appended: UpdateRecord[] } => {
  const appended: UpdateRecord[] = []
  return {
    appended,
    loadDocument: async () => ({ checkpoint: null, checkpointSeq: 0, updates: [], lastSeq: 0 }),
    appendUpdate: async (record): Promise<AppendedUpdate> => {
      appended.push(record)
      return { docId: record.docId, seq: appended.length }
    },
    checkHealth: async () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
  }
}

/**
 * An update Yjs integrates partly and then throws on: client 2 inserts
 * `EVIL` into the root text, client 1 has an item whose origin is its own
 * future clock. Protocol inspection refuses it; the room must not rely on that.
 */
const halfApplicableUpdate = (): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 2)
  for (const n of [1, 2, 0]) encoding.writeVarUint(encoder, n)
  encoding.writeUint8(encoder, 4)
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarString(encoder, 'text')
  encoding.writeVarString(encoder, 'EVIL')
  for (const n of [1, 1, 0]) encoding.writeVarUint(encoder, n)
  encoding.writeUint8(encoder, 0x80 | 4)
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, 100)
  encoding.writeVarString(encoder, 'x')
  encoding.writeVarUint(encoder, 0)
  return encoding.toUint8Array(encoder)
}

describe('Room', () => {
  it('publishes nothing of an update Yjs fails on halfway, and reports itself poisoned', async () => {
    const store = memoryStore()
    const poisoned: Room[] = []
    const room = new Room(
      'doc',
      {
        log: createStoreLog(store),
        logger: pino({ level: 'silent' }),
        nextBusId: () => 'n:1',
        onPoisoned: (r) => poisoned.push(r),
      },
      { maxPendingUpdateBytes: 1024 },
    )
    await room.load()
    const delivered: Uint8Array[] = []
    const watcher: RoomMember = { deliver: (frame) => delivered.push(frame) }
    room.members.add(watcher)

    const outcome = room.applyUpdate(halfApplicableUpdate(), null, { userId: null, connId: 'c1' })
    expect(outcome).toMatchObject({ ok: false, reason: 'undecodable' })
    expect(delivered).toHaveLength(0)
    expect(store.appended).toHaveLength(0)
    expect(room.isPoisoned).toBe(true)
    expect(poisoned).toEqual([room])

    // A poisoned room refuses everything after.
    const good = new Y.Doc()
    good.getText('text').insert(0, 'good')
    expect(
      room.applyUpdate(Y.encodeStateAsUpdate(good), null, { userId: null, connId: 'c2' }),
    ).toMatchObject({
      ok: false,
      reason: 'poisoned',
    })
    room.destroy()
  })

  it('broadcasts and appends an applied update once, attributed to its sender', async () => {
    const store = memoryStore()
    const room = new Room(
      'doc',
      {
        log: createStoreLog(store),
        logger: pino({ level: 'silent' }),
        nextBusId: () => 'n:7',
        onPoisoned: () => undefined,
      },
      { maxPendingUpdateBytes: 1024 },
    )
    await room.load()
    const sender: RoomMember = {
      deliver: () => expect.fail('the sender must not get its own update'),
    }
    const delivered: Uint8Array[] = []
    room.members.add(sender)
    room.members.add({ deliver: (frame) => delivered.push(frame) })
    const source = new Y.Doc()
    source.getText('text').insert(0, 'hi')
    const outcome = room.applyUpdate(Y.encodeStateAsUpdate(source), sender, {
      userId: 'u1',
      connId: 'c1',
    })
    expect(outcome.ok).toBe(true)
    expect(delivered).toHaveLength(1)
    expect(store.appended).toMatchObject([
      { docId: 'doc', userId: 'u1', connId: 'c1', busId: 'n:7' },
    ])

    // The same update again changes nothing: nothing relayed, nothing stored.
    room.applyUpdate(Y.encodeStateAsUpdate(source), sender, { userId: 'u1', connId: 'c1' })
    expect(delivered).toHaveLength(1)
    expect(store.appended).toHaveLength(1)
    room.destroy()
  })
})
