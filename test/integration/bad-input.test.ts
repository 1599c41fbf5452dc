/**
 * Malformed input (MSG-1..3, CONN-1..2, field case F11): each bad frame
 * closes only the socket that sent it, with a code and a reason naming the
 * fault; the node stays up, well-behaved clients of the same and of another
 * document keep syncing, and nothing reaches the update log. Malformed
 * document ids are refused at the upgrade.
 *
 * The node runs in this process: an exception escaping a socket callback
 * would be an uncaught error, which fails the run, so "the process stays up"
 * is checked by the run itself and, per input, by the node still answering
 * HTTP and new sockets.
 */
import { randomUUID } from 'node:crypto'
import * as encoding from 'lib0/encoding'
import pg from 'pg'
import { CloseCode, encodeAwarenessMessage, encodeSyncUpdate, MessageType } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, type ProviderClient, RawClient } from '../support/clients.js'
import { createSeededRandom, waitForSaved } from '../support/frames.js'
import { requestUpgradeStatus } from '../support/raw-upgrade.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const RANDOM_SEED = 0x5eed82
const random = createSeededRandom(RANDOM_SEED)

const newDocId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

/** One malformed input and how the server must answer it. */
interface BadInput {
  readonly name: string
  readonly frame: Uint8Array | string
  readonly code: number
  /** What the close reason must mention. */
  readonly reason: RegExp
}

/** A valid V1 update inserting `text` into the `text` root of a fresh document. */
const textUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

/**
 * A V1 update that passes structural inspection but that Yjs cannot apply:
 * client 1's item names an origin (1, 100) of its own client that does not
 * exist, so Yjs throws looking it up. With `before` set, a valid item of
 * client 2 inserting `before` comes first in the update and Yjs integrates
 * it before throwing (it integrates the highest client id first).
 */
const unapplicableUpdate = (before?: string): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, before === undefined ? 1 : 2)
  if (before !== undefined) {
    // Client 2, one struct from clock 0: a string item in the root type `text`.
    for (const n of [1, 2, 0]) encoding.writeVarUint(encoder, n)
    encoding.writeUint8(encoder, 4)
    encoding.writeVarUint(encoder, 1)
    encoding.writeVarString(encoder, 'text')
    encoding.writeVarString(encoder, before)
  }
  // Client 1, one struct from clock 0: a string item whose origin is (1, 100).
  for (const n of [1, 1, 0]) encoding.writeVarUint(encoder, n)
  encoding.writeUint8(encoder, 0x80 | 4)
  encoding.writeVarUint(encoder, 1)
  encoding.writeVarUint(encoder, 100)
  encoding.writeVarString(encoder, 'x')
  // An empty delete set.
  encoding.writeVarUint(encoder, 0)
  return encoding.toUint8Array(encoder)
}

/** An awareness message whose one entry's state is `state`, verbatim. */
const awarenessWithState = (state: string): Uint8Array => {
  const entry = encoding.createEncoder()
  encoding.writeVarUint(entry, 1)
  encoding.writeVarUint(entry, 77_001)
  encoding.writeVarUint(entry, 1)
  encoding.writeVarString(entry, state)
  return encodeAwarenessMessage(encoding.toUint8Array(entry))
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

const BAD_INPUTS: readonly BadInput[] = [
  {
    name: 'a text frame',
    frame: '..`',
    code: CloseCode.UnsupportedData,
    reason: /text frames/,
  },
  {
    name: 'a varint past 2^53 (ff × 10)',
    frame: bytes(...new Array<number>(10).fill(0xff)),
    code: CloseCode.MalformedMessage,
    reason: /varint overflow/,
  },
  {
    name: 'a sync message with no subtype (00)',
    frame: bytes(0x00),
    code: CloseCode.MalformedMessage,
    reason: /truncated/,
  },
  {
    name: 'an update with no length (00 02)',
    frame: bytes(0x00, 0x02),
    code: CloseCode.MalformedMessage,
    reason: /truncated/,
  },
  {
    name: 'an update claiming 127 bytes with 1 present (00 02 7f 01)',
    frame: bytes(0x00, 0x02, 0x7f, 0x01),
    code: CloseCode.MalformedMessage,
    reason: /length 127 exceeds/,
  },
  {
    name: 'a step 1 whose length claims about 4 GB (00 00 ff ff ff ff 0f)',
    frame: bytes(0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f),
    code: CloseCode.MalformedMessage,
    reason: /length 4294967295 exceeds/,
  },
  {
    name: 'a truncated awareness message (01 05 00)',
    frame: bytes(0x01, 0x05, 0x00),
    code: CloseCode.MalformedMessage,
    reason: /length 5 exceeds/,
  },
  {
    name: 'an unknown message type (09)',
    frame: bytes(0x09),
    code: CloseCode.MalformedMessage,
    reason: /unknown message type 9/,
  },
  {
    name: 'the auth type from a client (02 00)',
    frame: bytes(MessageType.Auth, 0x00),
    code: CloseCode.MalformedMessage,
    reason: /unknown message type 2/,
  },
  {
    name: 'trailing bytes after a valid update',
    frame: new Uint8Array([...encodeSyncUpdate(textUpdate('trailing')), 0x00, 0x01]),
    code: CloseCode.MalformedMessage,
    reason: /2 trailing bytes/,
  },
  {
    name: 'an update of random bytes in valid framing',
    frame: encodeSyncUpdate(random.bytes(200)),
    code: CloseCode.MalformedMessage,
    reason: /invalid update/,
  },
  {
    name: 'an update whose item refers to its own future (Yjs would throw halfway)',
    frame: encodeSyncUpdate(unapplicableUpdate()),
    code: CloseCode.MalformedMessage,
    reason: /refers to its own client's future/,
  },
  {
    name: `64 KB of random bytes (seed ${RANDOM_SEED})`,
    frame: random.bytes(64 * 1024),
    code: CloseCode.MalformedMessage,
    reason: /malformed message|invalid update/,
  },
  {
    name: 'an awareness state that is not JSON',
    frame: awarenessWithState('{not json'),
    code: CloseCode.MalformedMessage,
    reason: /not JSON/,
  },
]

/** Opens a fresh socket to `docId`, sends `input` and resolves once the server closed it. */
const sendBadInput = async (
  wsUrl: string,
  docId: string,
  input: BadInput,
): Promise<{ code: number | null; reason: string }> => {
  const raw = await RawClient.open(wsUrl, docId)
  raw.send(input.frame)
  await waitUntil(() => raw.closeCode !== null, `the socket to close after ${input.name}`)
  return { code: raw.closeCode, reason: raw.closeReason }
}

const expectNodeUp = async (node: TestServer): Promise<void> => {
  const response = await fetch(`${node.url}/healthz`)
  expect(response.status).toBe(200)
}

/** Two providers on one document; counts how often either lost its connection. */
interface ProviderPair {
  readonly writer: ProviderClient
  readonly reader: ProviderClient
  readonly expected: string[]
  disconnects: number
}

const connectPair = async (wsUrl: string, docId: string): Promise<ProviderPair> => {
  const pair: ProviderPair = {
    writer: await connectProvider(wsUrl, docId),
    reader: await connectProvider(wsUrl, docId),
    expected: [],
    disconnects: 0,
  }
  for (const client of [pair.writer, pair.reader]) {
    client.provider.on('connection-close', () => (pair.disconnects += 1))
  }
  return pair
}

/** Types `word` on the writer and waits for the reader to hold exactly what was typed. */
const expectStillSyncing = async (pair: ProviderPair, word: string): Promise<void> => {
  const text = pair.writer.doc.getText('text')
  text.insert(text.length, word)
  pair.expected.push(word)
  const expected = pair.expected.join('')
  await waitUntil(
    () => pair.reader.doc.getText('text').toString() === expected,
    `'${word}' to reach the second client`,
  )
  expect(pair.writer.doc.getText('text').toString()).toBe(expected)
  expect(pair.disconnects).toBe(0)
}

describe('malformed frames (MSG-1..3, CONN-2, F11)', () => {
  let node: TestServer
  let db: pg.Pool
  let same: ProviderPair
  let other: ProviderPair
  const docId = newDocId('t82')

  beforeAll(async () => {
    node = await startTestServer({ store: 'postgres' })
    db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 })
    same = await connectPair(node.wsUrl, docId)
    other = await connectPair(node.wsUrl, newDocId('t82-other'))
  })
  afterAll(async () => {
    for (const pair of [same, other]) {
      pair?.writer.destroy()
      pair?.reader.destroy()
    }
    await db?.end()
    await node?.dispose()
  })

  const countUpdateRows = async (id: string): Promise<number> => {
    const result = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM updates WHERE doc_id = $1',
      [id],
    )
    return result.rows[0]?.n ?? -1
  }

  it.each(BAD_INPUTS.map((input, index) => ({ ...input, index })))(
    'closes only the socket that sends $name',
    async (input) => {
      const closed = await sendBadInput(node.wsUrl, docId, input)
      expect(closed.code).toBe(input.code)
      expect(closed.reason).not.toBe('')
      expect(closed.reason).toMatch(input.reason)

      // The node is up, and a new client connects and syncs.
      await expectNodeUp(node)
      const late = await connectProvider(node.wsUrl, docId)
      expect(late.doc.getText('text').toString()).toBe(same.expected.join(''))
      late.destroy()

      // Clients of this and of another document keep syncing, unaffected.
      await expectStillSyncing(same, `same${input.index} `)
      await expectStillSyncing(other, `other${input.index} `)
    },
  )

  it('writes nothing to the update log for any malformed frame', async () => {
    const rowsDocId = newDocId('t82-rows')
    const baseline = textUpdate('baseline')
    const writer = await RawClient.open(node.wsUrl, rowsDocId, { saved: true })
    writer.send(encodeSyncUpdate(baseline))
    await waitForSaved(writer, 1)
    writer.close()
    const before = await countUpdateRows(rowsDocId)
    expect(before).toBe(1)

    for (const input of BAD_INPUTS) {
      const closed = await sendBadInput(node.wsUrl, rowsDocId, input)
      expect(closed.code, input.name).toBe(input.code)
    }

    // A message that adds nothing is acknowledged only once every earlier
    // append has settled (SAVE-2): a barrier that itself writes no row.
    const barrier = await RawClient.open(node.wsUrl, rowsDocId, { saved: true })
    barrier.send(encodeSyncUpdate(baseline))
    await waitForSaved(barrier, 1)
    barrier.close()
    expect(await countUpdateRows(rowsDocId)).toBe(before)
    await expectNodeUp(node)
  })

  // Yjs would integrate client 2's item, throw on client 1's, and still emit
  // the partial transaction. Inspection refuses the self-referencing origin;
  // room.test.ts covers the room's own guard for updates that get past it.
  it('applies no part of an update that Yjs fails on halfway (MSG-3)', async () => {
    const partialDocId = newDocId('t82-partial')
    const pair = await connectPair(node.wsUrl, partialDocId)
    try {
      const before = await countUpdateRows(partialDocId)
      const input: BadInput = {
        name: 'an update Yjs fails on after integrating part of it',
        frame: encodeSyncUpdate(unapplicableUpdate('EVIL')),
        code: CloseCode.MalformedMessage,
        reason: /Yjs could not apply|refers to its own client's future/,
      }
      const closed = await sendBadInput(node.wsUrl, partialDocId, input)
      expect(closed.code).toBe(CloseCode.MalformedMessage)
      expect(closed.reason).toMatch(input.reason)

      // Anything relayed from the bad frame reaches the reader before this edit.
      const text = pair.writer.doc.getText('text')
      text.insert(text.length, 'good')
      await waitUntil(
        () => pair.reader.doc.getText('text').toString().includes('good'),
        'the good edit to reach the reader',
      )
      expect.soft(pair.reader.doc.getText('text').toString()).not.toContain('EVIL')

      const barrier = await RawClient.open(node.wsUrl, partialDocId, { saved: true })
      barrier.send(encodeSyncUpdate(new Uint8Array([0, 0])))
      await waitForSaved(barrier, 1)
      barrier.close()
      const reread = await connectProvider(node.wsUrl, partialDocId)
      expect.soft(reread.doc.getText('text').toString()).toBe('good')
      reread.destroy()
      // Only the good edit is in the log.
      expect.soft(await countUpdateRows(partialDocId)).toBe(before + 1)
    } finally {
      pair.writer.destroy()
      pair.reader.destroy()
    }
  })
})

describe('malformed document ids and paths (CONN-1)', () => {
  let node: TestServer
  beforeAll(async () => {
    node = await startTestServer({ store: 'postgres' })
  })
  afterAll(() => node?.dispose())

  it.each([
    ['/sync/bad%20id', 'an escaped space'],
    [`/sync/${'a'.repeat(65)}`, '65 characters'],
    ['/sync/a.b', 'a dot'],
    ['/sync/-leading-dash', 'a leading dash'],
    ['/sync/', 'an empty id'],
  ])('refuses the upgrade of %s (%s) with 400', async (path) => {
    expect(await requestUpgradeStatus(node.url, path)).toBe(400)
  })

  // Left failing, see the report: the endpoint parses the request target
  // with WHATWG URL, which removes dot segments before the id is checked, so
  // `/sync/../x` is answered as `/x` (404) and `/sync/x/../abc` opens
  // document `abc` (101).
  it.each(['/sync/../x', '/sync/x/../abc'])('refuses the upgrade of %s with 400', async (path) => {
    expect(await requestUpgradeStatus(node.url, path)).toBe(400)
  })

  it('refuses the upgrade of a path outside /sync/ with 404', async () => {
    expect(await requestUpgradeStatus(node.url, '/other')).toBe(404)
  })

  it('accepts the upgrade of a 64-character id', async () => {
    expect(await requestUpgradeStatus(node.url, `/sync/${'a'.repeat(64)}`)).toBe(101)
  })
})
