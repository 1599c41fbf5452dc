/**
 * Fuzzing the sync endpoint (MSG-1..3, CONN-2, RELAY-3, DOC-4): fast-check
 * sends random frames, mutated real y-websocket messages, valid-but-hostile
 * Yjs updates and awareness states, one fresh socket per case, to a document
 * a well-behaved provider keeps typing into. After every case the node
 * answers /healthz and syncs a new socket, the bad socket ended with a
 * documented client-fault code (or stayed open when every frame was valid),
 * nothing was logged as a server fault and nothing escaped into this
 * process. At the end a fresh provider and PostgreSQL hold exactly what the
 * well-behaved client typed.
 *
 * Fuzz input never touches the `text` root (see fuzz-frames.ts), so any
 * difference there is the server's doing.
 *
 * QUIRE_FUZZ_MS bounds the time spent generating cases (default 20 s),
 * QUIRE_FUZZ_RUNS their number, QUIRE_FUZZ_SEED picks another seed. On a
 * failure fast-check prints the seed, the path and the shrunk case (labels
 * and hex of every frame); replay it with the same seed. The cases share
 * one node, so a fault that outlives its case (a client closed for good)
 * makes every shrink attempt fail too: the first of the "encountered
 * failures" it lists is then the case that caused it.
 */
import { isUtf8 } from 'node:buffer'
import { randomUUID } from 'node:crypto'
import {
  type AwarenessEntry,
  CloseCode,
  decodeClientMessage,
  encodeQueryAwareness,
  encodeSyncStep1,
  inspectUpdateV1,
  MessageType,
} from '@quire/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, type ProviderClient, RawClient } from '../support/clients.js'
import { isSyncStep2 } from '../support/frames.js'
import {
  type FuzzCase,
  type FuzzFrame,
  fuzzCaseArb,
  HOSTILE_CLIENTS,
} from '../support/fuzz-frames.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'
import { waitUntil } from '../support/wait.js'

const FUZZ_MS = Number(process.env.QUIRE_FUZZ_MS ?? 20_000)
const FUZZ_RUNS = Number(process.env.QUIRE_FUZZ_RUNS ?? 5_000)
const FUZZ_SEED = Number(process.env.QUIRE_FUZZ_SEED ?? 0xf022)

/** Small enough that oversized frames (1009) cost little to send. */
const MAX_MESSAGE_BYTES = 64 * 1024
/** Small enough that parked hostile updates reach the cap (DOC-4) during a run. */
const MAX_PENDING_UPDATE_BYTES = 16 * 1024

/** Longest a case's socket may take to close or answer, and a new socket to sync. */
const CASE_DEADLINE_MS = 5_000
/** Longest one fast-check run may take, all checks included. */
const RUN_TIMEOUT_MS = 15_000
/** How often the well-behaved client types a character. */
const TYPING_INTERVAL_MS = 20

/**
 * How a case's socket may end: closed with a code, or still open. 1011 (a
 * server bug) and abnormal closures (1005, 1006) are never allowed.
 */
type Outcome = number | 'open'

/** What ws closes a text frame of invalid UTF-8 with (RFC 6455 §8.1). */
const INVALID_UTF8_CLOSE = 1007

/**
 * The codes a frame is refused with by the transport, before any decoding:
 * over the limit 1009, a text frame 1003 (CONN-2). CONN-2 says 1003 for
 * every text frame, but ws fails one of invalid UTF-8 with 1007 before
 * Quire sees it; see the report. Tolerated so the run checks the rest.
 */
const transportCloses = (frame: FuzzFrame): readonly number[] | null => {
  if (frame.bytes.length > MAX_MESSAGE_BYTES) return [CloseCode.MessageTooBig]
  if (frame.kind === 'binary') return null
  return isUtf8(frame.bytes)
    ? [CloseCode.UnsupportedData]
    : [CloseCode.UnsupportedData, INVALID_UTF8_CLOSE]
}

/**
 * The outcomes the rules allow for a case, its frames read in order: a
 * transport refusal (above), a frame that does not decode or whose update
 * fails inspection closes with 4400 (MSG-1, MSG-3); step 1, awareness and
 * presence queries that decode never close. An update that passes
 * inspection may still be refused by Yjs (4400) or park past the cap
 * (4503, DOC-4), or be applied.
 */
const allowedOutcomes = (fuzzCase: FuzzCase): Set<Outcome> => {
  const allowed = new Set<Outcome>()
  // Known server bug, see the report: while a document loads, binary
  // frames are held in order (CONN-3) but a text frame is refused at once
  // (and ws refuses an oversized one at once), so its code can come before
  // that of a bad frame sent earlier, whose handling it also cancels.
  if (fuzzCase.isFreshDocument) {
    const jumping = fuzzCase.frames.map(transportCloses).find((codes) => codes !== null)
    for (const code of jumping ?? []) allowed.add(code)
  }
  for (const frame of fuzzCase.frames) {
    const refusal = transportCloses(frame)
    if (refusal !== null) {
      for (const code of refusal) allowed.add(code)
      return allowed
    }
    const decoded = decodeClientMessage(frame.bytes)
    if (!decoded.ok) return allowed.add(CloseCode.MalformedMessage)
    const { message } = decoded
    if (message.kind !== 'sync-step2' && message.kind !== 'sync-update') continue
    if (!inspectUpdateV1(message.update).ok) return allowed.add(CloseCode.MalformedMessage)
    allowed.add(CloseCode.MalformedMessage).add(CloseCode.Unavailable)
  }
  return allowed.add('open')
}

/** Sends `frame`, in fragments with a ping between them if it has `fragmentAt`. */
const sendFrame = (raw: RawClient, frame: FuzzFrame): void => {
  const cuts = [0, ...(frame.fragmentAt ?? []), frame.bytes.length]
  for (let i = 0; i + 1 < cuts.length; i++) {
    if (i > 0) raw.socket.ping()
    raw.socket.send(frame.bytes.subarray(cuts[i], cuts[i + 1]), {
      binary: frame.kind === 'binary',
      fin: i + 2 === cuts.length,
    })
  }
}

const isAwareness = (frame: Uint8Array): boolean => frame[0] === MessageType.Awareness

/**
 * Sends a presence query on `client`'s socket and waits for the answer, or
 * for the socket to close (recorded in `closes`): the node has then handled
 * everything the provider sent before.
 */
const providerRoundTrip = async (client: ProviderClient, closes: string[]): Promise<void> => {
  const ws = client.provider.ws
  if (ws === null) return
  let isAnswered = false
  const onMessage = (event: MessageEvent): void => {
    if (isAwareness(new Uint8Array(event.data as ArrayBuffer))) isAnswered = true
  }
  ws.addEventListener('message', onMessage)
  try {
    ws.send(encodeQueryAwareness())
    await waitUntil(
      () => isAnswered || closes.length > 0,
      'a provider to answer a presence query',
      CASE_DEADLINE_MS,
    )
  } finally {
    ws.removeEventListener('message', onMessage)
  }
}

/** Records how `client`'s connections ended, in `closes`. */
const recordCloses = (client: ProviderClient, closes: string[]): void => {
  client.provider.on('connection-close', (event: { code: number; reason: string } | null) => {
    closes.push(event === null ? 'closed by the provider' : `${event.code} ${event.reason}`)
  })
}

/** What the node logged that only a server fault would make it log. */
const serverFaults = (lines: readonly Record<string, unknown>[]): Record<string, unknown>[] =>
  lines.filter((line) => line.msg === 'frame handling failed' || Number(line.level) >= 50)

describe('fuzzed frames against a live document (MSG-1..3, CONN-2, RELAY-3, DOC-4)', () => {
  const docId = `fuzz-${randomUUID().slice(0, 8)}`
  const processFaults: string[] = []
  const onRejection = (reason: unknown): void => {
    processFaults.push(`unhandledRejection: ${String(reason)}`)
  }
  const onException = (err: Error): void => {
    processFaults.push(`uncaughtException: ${err.stack ?? String(err)}`)
  }
  const outcomes = new Map<string, number>()
  let node: TestServer
  let writer: ProviderClient
  const writerCloses: string[] = []
  let freshDocuments = 0
  let typed = ''
  let typing: NodeJS.Timeout | undefined

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection)
    process.on('uncaughtException', onException)
    node = await startTestServer({
      store: 'postgres',
      flags: {
        maxMessageBytes: String(MAX_MESSAGE_BYTES),
        maxPendingUpdateBytes: String(MAX_PENDING_UPDATE_BYTES),
      },
    })
    writer = await connectProvider(node.wsUrl, docId)
    recordCloses(writer, writerCloses)
    writer.provider.awareness.setLocalStateField('user', { name: 'writer', color: '#0a0' })
  })
  afterAll(async () => {
    clearInterval(typing)
    writer?.destroy()
    await node?.dispose()
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
  })

  /** Sends `fuzzCase` on a fresh socket and resolves with how that socket ended. */
  const runCase = async (fuzzCase: FuzzCase, allowed: Set<Outcome>): Promise<Outcome> => {
    const caseDocId = fuzzCase.isFreshDocument ? `${docId}-${(freshDocuments += 1)}` : docId
    const raw = await RawClient.open(node.wsUrl, caseDocId)
    try {
      for (const frame of fuzzCase.frames) sendFrame(raw, frame)
      // One socket's frames are handled in order: the answer to this query
      // means every fuzz frame was handled. An awareness broadcast or a
      // keep-alive can look like the answer; that only ends the wait early,
      // so a socket that must close is then given a moment more to do so.
      const probeFrom = raw.received.length
      raw.send(encodeQueryAwareness())
      await waitUntil(
        () => raw.closeCode !== null || raw.received.slice(probeFrom).some(isAwareness),
        'the fuzzed socket to close or answer a presence query',
        CASE_DEADLINE_MS,
      )
      if (raw.closeCode === null && !allowed.has('open'))
        await waitUntil(() => raw.closeCode !== null, 'the fuzzed socket to close', 1_000).catch(
          // Reported as outcome 'open' by the caller's assertion.
          () => undefined,
        )
      return raw.closeCode ?? 'open'
    } finally {
      raw.close()
    }
  }

  /**
   * Waits until the node has let go of every socket but the writer's, then
   * until the writer's socket answers a presence query. What a closed
   * socket set off (its presence removed and broadcast, RELAY-3; whatever
   * the writer's provider answered to that) has then been handled, so a
   * fault shows in the case that caused it.
   */
  const settle = async (): Promise<void> => {
    await waitUntil(() => node.rooms.sessionCount <= 1, 'the fuzzed sockets to be gone')
    await providerRoundTrip(writer, writerCloses)
  }

  /**
   * The node answers HTTP and syncs a new socket; the state it serves
   * decodes, holds a prefix of what the writer typed, and the writer's
   * presence as the writer set it (RELAY-3).
   */
  const expectNodeServes = async (): Promise<void> => {
    const health = await fetch(`${node.url}/healthz`)
    expect(health.status).toBe(200)

    const raw = await RawClient.open(node.wsUrl, docId)
    try {
      raw.send(encodeSyncStep1(new Uint8Array([0])))
      await waitUntil(
        () => raw.received.some(isSyncStep2),
        'a new socket to sync',
        CASE_DEADLINE_MS,
      )
      const messages = raw.received.map(decodeClientMessage)
      const doc = new Y.Doc()
      for (const decoded of messages) {
        if (decoded.ok && decoded.message.kind === 'sync-step2')
          Y.applyUpdate(doc, decoded.message.update)
      }
      const served = doc.getText('text').toString()
      expect(typed.startsWith(served), `served text ${JSON.stringify(served)}`).toBe(true)

      const presence: AwarenessEntry[] = messages.flatMap((decoded) =>
        decoded.ok && decoded.message.kind === 'awareness' ? decoded.message.entries : [],
      )
      const writerPresence = presence.find((entry) => entry.clientId === writer.doc.clientID)
      expect(writerPresence?.state).toEqual(writer.provider.awareness.getLocalState())
    } finally {
      raw.close()
    }
  }

  it(
    'survives every case, closes bad sockets as documented, and keeps the writer converging',
    async () => {
      // A fuzz update referring to one of the writer's items, or deleting its
      // range, would legally change its text.
      expect(HOSTILE_CLIENTS).not.toContain(writer.doc.clientID)
      expect(writer.doc.clientID).toBeGreaterThan(11_000)
      await waitUntil(async () => {
        try {
          await expectNodeServes()
          return true
        } catch {
          // The writer's presence has not reached the node yet.
          return false
        }
      }, "the writer's presence at the node")

      const text = writer.doc.getText('text')
      typing = setInterval(() => {
        const char = String.fromCharCode(97 + (typed.length % 26))
        text.insert(text.length, char)
        typed += char
      }, TYPING_INTERVAL_MS)

      const property = fc.asyncProperty(
        fuzzCaseArb({
          protectedAwarenessId: writer.doc.clientID,
          maxMessageBytes: MAX_MESSAGE_BYTES,
        }),
        async (fuzzCase) => {
          const linesBefore = node.logs.lines.length
          const allowed = allowedOutcomes(fuzzCase)
          const outcome = await runCase(fuzzCase, allowed)
          outcomes.set(String(outcome), (outcomes.get(String(outcome)) ?? 0) + 1)
          expect([...allowed], `how the socket ended: ${outcome}`).toContain(outcome)

          await settle()
          expect(writerCloses, 'the well-behaved client lost its connection').toEqual([])
          await expectNodeServes()
          expect(serverFaults(node.logs.lines.slice(linesBefore))).toEqual([])
          expect(processFaults).toEqual([])
        },
      )
      const startedAt = Date.now()
      await fc.assert(property, {
        seed: FUZZ_SEED,
        numRuns: FUZZ_RUNS,
        plugins: [fc.interruptAfterTimeLimit(FUZZ_MS), fc.timeout(RUN_TIMEOUT_MS)],
        verbose: fc.VerbosityLevel.Verbose,
      })
      clearInterval(typing)
      if (process.env.QUIRE_FUZZ_VERBOSE !== undefined) {
        const runs = [...outcomes.values()].reduce((sum, count) => sum + count, 0)
        console.info(
          `fuzz: ${runs} cases in ${Date.now() - startedAt} ms, seed ${FUZZ_SEED}, ` +
            `outcomes ${JSON.stringify(Object.fromEntries(outcomes))}, ` +
            `${typed.length} characters typed, writer disconnects ${writerCloses.length}`,
        )
      }

      // The writer, a fresh provider and PostgreSQL hold exactly what was typed.
      expect(text.toString()).toBe(typed)
      const reader = await connectProvider(node.wsUrl, docId)
      try {
        await waitUntil(
          () => reader.doc.getText('text').toString() === typed,
          'a fresh provider to hold what the writer typed',
        )
      } finally {
        reader.destroy()
      }
      await waitUntil(
        async () => (await readStoredText(inject('databaseUrl'), docId)) === typed,
        'PostgreSQL to hold what the writer typed',
        10_000,
        100,
      )
      expect(writerCloses.length).toBe(0)
      expect(serverFaults(node.logs.lines)).toEqual([])
      expect(processFaults).toEqual([])
    },
    FUZZ_MS + 40_000,
  )

  // Found by this test; known server bug, see the report. The node accepts
  // an awareness clock of 2^53 - 1 and publishes the removal at clock 2^53.
  // y-websocket's provider re-broadcasts every presence change it hears, and
  // the node refuses its own number back ("varint overflow", 4400), which
  // y-websocket takes as final: the editor stops syncing for good.
  it('refuses a presence clock so large that its removal could not be encoded (RELAY-3)', async () => {
    const clockDocId = `${docId}-clock`
    const provider = await connectProvider(node.wsUrl, clockDocId)
    const closes: string[] = []
    recordCloses(provider, closes)
    try {
      const raw = await RawClient.open(node.wsUrl, clockDocId)
      // One entry: client 1, clock 2^53 - 1, state {}. Relayed, its removal
      // (clock + 1) would be past what any peer can encode, and every
      // provider that echoed it would be closed as malformed.
      raw.send(Buffer.from('010d0101ffffffffffffff0f027b7d', 'hex'))
      expect((await raw.closed).code).toBe(4400)
      expect(raw.closeReason).toMatch(/awareness clock/)
      await providerRoundTrip(provider, closes)
      expect(provider.provider.awareness.getStates().has(1)).toBe(false)
      expect(closes).toEqual([])
    } finally {
      provider.destroy()
    }
  })
})
