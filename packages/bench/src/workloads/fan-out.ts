/**
 * Fan-out: one document, `clients` sockets, of which `writers` type one
 * character each `1000 / editsPerSecond` ms (phases spread evenly). For each
 * edit, the time from its send to its arrival at every other client is one
 * sample; every expected arrival must happen (zero lost messages), and the
 * server's CPU time over the run is divided by the arrivals.
 */
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import { BenchClient } from '../client/bench-client.js'
import { adapterFor } from '../client/adapters.js'
import type { RunningServer } from '../servers/launch.js'
import { inBatches, LatencyRecorder, type LatencySummary, round, waitUntil } from '../stats.js'

/** One fan-out load. */
export interface FanOutParams {
  /** Short key, e.g. `500c-10w-2hz`. */
  readonly name: string
  readonly clients: number
  readonly writers: number
  /** Edits per second per writer. */
  readonly editsPerSecond: number
  readonly durationMs: number
}

/** What one fan-out run measured. */
export interface FanOutResult {
  readonly edits: number
  readonly expectedDeliveries: number
  readonly deliveries: number
  readonly lost: number
  readonly latency: LatencySummary
  readonly deliveriesPerSecond: number
  readonly serverCpuMs: number
  readonly serverCpuPerDeliveryUs: number
}

const CONNECT_TIMEOUT_MS = 30_000
const DRAIN_TIMEOUT_MS = 15_000

interface Writer {
  readonly client: BenchClient
  readonly doc: Y.Doc
  /** [clock after the edit, send time] per edit, in order. */
  readonly sent: [number, number][]
}

/** Runs one fan-out load against `server`; closes its clients before resolving. */
export const runFanOut = async (
  server: RunningServer,
  params: FanOutParams,
): Promise<FanOutResult> => {
  const adapter = adapterFor(server.kind)
  const docId = `fanout-${randomBytes(4).toString('hex')}`
  const latency = new LatencyRecorder()
  const writersById = new Map<number, Writer>()
  const clients: BenchClient[] = []

  // Every client counts arrivals per writer: an update carries the writer's
  // clock, and every edit whose clock it covers has arrived.
  for (let index = 0; index < params.clients; index++) {
    const doc = index < params.writers ? new Y.Doc() : undefined
    const pointers = new Map<number, number>()
    const client = new BenchClient({
      adapter,
      base: server.wsBase,
      docId,
      ...(doc === undefined ? {} : { doc }),
      onRemoteUpdate: (update, atMs) => {
        for (const [clientId, clock] of Y.parseUpdateMeta(update).to) {
          const writer = writersById.get(clientId)
          // y-websocket's server echoes an update to its author too.
          if (writer === undefined || writer.client === client) continue
          let pointer = pointers.get(clientId) ?? 0
          while (pointer < writer.sent.length && (writer.sent[pointer]?.[0] ?? Infinity) <= clock) {
            latency.record(atMs - (writer.sent[pointer]?.[1] ?? atMs))
            pointer++
          }
          pointers.set(clientId, pointer)
        }
      },
    })
    clients.push(client)
    if (doc !== undefined) writersById.set(doc.clientID, { client, doc, sent: [] })
  }
  const writers = [...writersById.values()]

  try {
    await inBatches(clients, 50, (client) => client.connect(CONNECT_TIMEOUT_MS))
    const cpuBefore = server.cpuTimeMs()
    const startedAt = performance.now()
    await typeFor(writers, params)
    const edits = writers.reduce((sum, writer) => sum + writer.sent.length, 0)
    const expectedDeliveries = edits * (params.clients - 1)
    await waitUntil(() => latency.count >= expectedDeliveries, DRAIN_TIMEOUT_MS)
    const serverCpuMs = server.cpuTimeMs() - cpuBefore
    const elapsedS = (performance.now() - startedAt) / 1000
    const deliveries = latency.count
    return {
      edits,
      expectedDeliveries,
      deliveries,
      lost: expectedDeliveries - deliveries,
      latency: latency.summarize(),
      deliveriesPerSecond: round(deliveries / elapsedS),
      serverCpuMs: round(serverCpuMs),
      serverCpuPerDeliveryUs: round(deliveries === 0 ? 0 : (serverCpuMs * 1000) / deliveries),
    }
  } finally {
    for (const client of clients) client.terminate()
  }
}

/** Each writer appends one character per period, on its own phase, for the run's duration. */
const typeFor = async (writers: readonly Writer[], params: FanOutParams): Promise<void> => {
  const periodMs = 1000 / params.editsPerSecond
  const start = performance.now()
  const end = start + params.durationMs
  await Promise.all(
    writers.map(
      (writer, index) =>
        new Promise<void>((resolve) => {
          const text = writer.doc.getText('text')
          let next = start + (index * periodMs) / writers.length
          const tick = (): void => {
            if (performance.now() >= end) {
              resolve()
              return
            }
            let update: Uint8Array | null = null
            const capture = (u: Uint8Array): void => {
              update = u
            }
            writer.doc.once('update', capture)
            text.insert(text.length, 'x')
            if (update !== null) {
              writer.sent.push([
                Y.getState(writer.doc.store, writer.doc.clientID),
                performance.now(),
              ])
              writer.client.sendUpdate(update)
            }
            next += periodMs
            setTimeout(tick, Math.max(0, next - performance.now()))
          }
          setTimeout(tick, Math.max(0, next - performance.now()))
        }),
    ),
  )
}
