/**
 * A large real document: the automerge-paper trace (≈260k edits). Quire
 * stores it as its raw update history (one row per edit, compaction held
 * off), then compacted into a checkpoint; each time a freshly started
 * server is opened by one fresh client (cold open: connect to synced). Then,
 * with the document held open by one client, 100 and 300 clients join at
 * once (join storm: until all are synced). The peers keep documents in
 * memory only, so they get the same final state as one update from a holder
 * client and have no cold open.
 */
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import {
  loadTrace,
  precomputeSequentialUpdates,
  type SequentialTrace,
} from '../../../tools/src/traces/index.js'
import { BenchClient } from '../client/bench-client.js'
import { adapterFor, type ServerKind } from '../client/adapters.js'
import { launchServer, type RunningServer } from '../servers/launch.js'
import type { ServerStorage } from '../servers/storage.js'
import { round, waitUntil } from '../stats.js'

/** The document load. */
export interface DocumentParams {
  /** Trace transactions used (all when absent); smaller for smoke runs. */
  readonly traceTxns?: number
  readonly stormSizes: readonly number[]
  readonly runs: number
}

/** The trace as updates, its final state and text; built once per process. */
export interface TraceDocument {
  readonly updates: readonly Uint8Array[]
  readonly state: Uint8Array
  readonly text: string
}

/** What the document load measured on one server, one entry per run. */
export interface DocumentResult {
  readonly updates: number
  readonly stateBytes: number
  /** Quire only: cold open of the raw update history. */
  readonly coldRawMs: number[]
  /** Quire only: cold open after compaction. */
  readonly coldCompactedMs: number[]
  /** A fresh client on a server already holding the document. */
  readonly warmOpenMs: number[]
  /** By storm size: time from the joins until all are synced. */
  readonly stormMs: Record<string, number[]>
  /** Whether a fresh client's text equalled the trace's final text (every open checked once). */
  isTextCorrect: boolean
}

const HOLD_OFF_COMPACTION = [
  '--compact-after-updates',
  '10000000',
  '--compact-interval-ms',
  '86400000',
]
const SYNC_TIMEOUT_MS = 120_000

const built = new Map<number, Promise<TraceDocument>>()

/** Builds the trace's updates (one per edit transaction) and final state, once per size. */
export const buildTraceDocument = (traceTxns?: number): Promise<TraceDocument> => {
  const key = traceTxns ?? -1
  let document = built.get(key)
  if (document === undefined) {
    document = build(traceTxns)
    built.set(key, document)
  }
  return document
}

const build = async (traceTxns?: number): Promise<TraceDocument> => {
  const trace = (await loadTrace('automerge-paper')) as SequentialTrace
  const plan = precomputeSequentialUpdates(trace, 1, {
    chunkTxns: 1,
    ...(traceTxns === undefined ? {} : { limitTxns: traceTxns }),
  })
  const updates = plan.steps.map((step) => step.update)
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return { updates, state: Y.encodeStateAsUpdate(doc), text: doc.getText('text').toString() }
}

/** Time from connect to synced for one fresh client; checks its text when asked. */
const openOnce = async (
  server: RunningServer,
  docId: string,
  expectedText: string | null,
): Promise<{ ms: number; isTextCorrect: boolean }> => {
  const adapter = adapterFor(server.kind)
  const doc = new Y.Doc()
  const client = new BenchClient({ adapter, base: server.wsBase, docId, doc, applyRemote: false })
  const start = performance.now()
  await client.connect(SYNC_TIMEOUT_MS)
  const ms = performance.now() - start
  await client.close()
  if (expectedText === null) return { ms, isTextCorrect: true }
  // A second, applying client checks what the server served (outside the timing).
  const checker = new BenchClient({ adapter, base: server.wsBase, docId, doc, applyRemote: true })
  await checker.connect(SYNC_TIMEOUT_MS)
  await checker.close()
  return { ms, isTextCorrect: doc.getText('text').toString() === expectedText }
}

/** `size` clients join at once; resolves with the time until the last is synced. */
const storm = async (server: RunningServer, docId: string, size: number): Promise<number> => {
  const adapter = adapterFor(server.kind)
  const clients = Array.from(
    { length: size },
    () => new BenchClient({ adapter, base: server.wsBase, docId }),
  )
  const start = performance.now()
  try {
    await Promise.all(clients.map((client) => client.connect(SYNC_TIMEOUT_MS)))
    return performance.now() - start
  } finally {
    for (const client of clients) client.terminate()
  }
}

/** Sends every update on one connection, at most `window` unacknowledged, until all are stored. */
const pushHistory = async (
  server: RunningServer,
  docId: string,
  updates: readonly Uint8Array[],
) => {
  const client = new BenchClient({
    adapter: adapterFor(server.kind),
    base: server.wsBase,
    docId,
    wantsAcks: true,
  })
  await client.connect(SYNC_TIMEOUT_MS)
  const window = 4096
  for (const update of updates) {
    if (client.sentContent - client.acked >= window) {
      await waitUntil(() => client.sentContent - client.acked < window / 2, SYNC_TIMEOUT_MS, 2)
    }
    client.sendUpdate(update)
  }
  const isStored = await waitUntil(() => client.acked >= client.sentContent, SYNC_TIMEOUT_MS)
  await client.close()
  if (!isStored) throw new Error(`${server.kind}: history not acknowledged as stored`)
}

/** Holds the document open with one client, measures a warm open and each storm size. */
const measureWarm = async (
  start: () => Promise<RunningServer>,
  docId: string,
  params: DocumentParams,
  result: DocumentResult,
  seed: Uint8Array | null,
): Promise<void> => {
  for (const size of params.stormSizes) {
    for (let run = 0; run < params.runs; run++) {
      const server = await start()
      const holder = new BenchClient({
        adapter: adapterFor(server.kind),
        base: server.wsBase,
        docId,
      })
      try {
        await holder.connect(SYNC_TIMEOUT_MS)
        if (seed !== null) {
          holder.sendUpdate(seed)
          await holder.barrier(SYNC_TIMEOUT_MS)
        }
        if (size === params.stormSizes[0]) {
          result.warmOpenMs.push(round((await openOnce(server, docId, null)).ms))
        }
        ;(result.stormMs[String(size)] ??= []).push(round(await storm(server, docId, size)))
      } finally {
        holder.terminate()
        await server.stop()
      }
    }
  }
}

/** Runs the document load for one server kind; `storage` is fresh and disposed by the caller. */
export const runDocument = async (
  kind: ServerKind,
  storage: ServerStorage,
  params: DocumentParams,
): Promise<DocumentResult> => {
  const trace = await buildTraceDocument(params.traceTxns)
  const docId = `paper-${randomBytes(3).toString('hex')}`
  const result: DocumentResult = {
    updates: trace.updates.length,
    stateBytes: trace.state.length,
    coldRawMs: [],
    coldCompactedMs: [],
    warmOpenMs: [],
    stormMs: {},
    isTextCorrect: true,
  }
  const launch = (args: readonly string[] = []): Promise<RunningServer> =>
    launchServer(kind, { args: [...storage.args, ...args] })

  if (!kind.startsWith('quire')) {
    await measureWarm(() => launch(), docId, params, result, trace.state)
    return result
  }

  // The raw history: one stored update per trace transaction.
  await withServer(launch(HOLD_OFF_COMPACTION), (server) =>
    pushHistory(server, docId, trace.updates),
  )
  await coldOpens(
    () => launch(HOLD_OFF_COMPACTION),
    docId,
    params.runs,
    trace.text,
    result,
    result.coldRawMs,
  )

  // Compaction: one more update past the threshold triggers a checkpoint.
  await withServer(
    launch([
      '--compact-after-updates',
      String(Math.min(1000, trace.updates.length)),
      '--log-level',
      'debug',
    ]),
    async (server) => {
      const doc = new Y.Doc()
      const client = new BenchClient({ adapter: adapterFor(kind), base: server.wsBase, docId, doc })
      await client.connect(SYNC_TIMEOUT_MS)
      let update: Uint8Array | null = null
      doc.once('update', (u: Uint8Array) => (update = u))
      doc.getMap('bench').set('compact', true)
      if (update === null) throw new Error('no update')
      client.sendUpdate(update)
      const isCompacted = await waitUntil(
        () => /document compacted/.test(server.output()),
        300_000,
        200,
      )
      await client.close()
      if (!isCompacted) throw new Error(`${kind}: no compaction within 300 s`)
    },
  )
  await coldOpens(() => launch(), docId, params.runs, trace.text, result, result.coldCompactedMs)
  await measureWarm(() => launch(), docId, params, result, null)
  return result
}

const withServer = async (
  starting: Promise<RunningServer>,
  work: (server: RunningServer) => Promise<void>,
): Promise<void> => {
  const server = await starting
  try {
    await work(server)
  } finally {
    await server.stop()
  }
}

const coldOpens = async (
  start: () => Promise<RunningServer>,
  docId: string,
  runs: number,
  text: string,
  result: { isTextCorrect: boolean },
  into: number[],
): Promise<void> => {
  for (let run = 0; run < runs; run++) {
    await withServer(start(), async (server) => {
      const open = await openOnce(server, docId, run === 0 ? text : null)
      into.push(round(open.ms))
      result.isTextCorrect &&= open.isTextCorrect
    })
  }
}
