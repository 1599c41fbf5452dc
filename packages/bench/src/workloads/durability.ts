/**
 * Durability cost (Quire only; the peers store nothing): `clients` clients,
 * each on its own document with saved acknowledgements (`?saved=1`, message
 * type 100, docs/SPEC.md SAVE-1/SAVE-2), together offering `editsPerSecond`
 * edits for the run's duration. Measured: edits acknowledged as stored per
 * second, and the time from an edit's send to its acknowledgement.
 */
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import { BenchClient } from '../client/bench-client.js'
import { adapterFor } from '../client/adapters.js'
import type { RunningServer } from '../servers/launch.js'
import { inBatches, LatencyRecorder, type LatencySummary, round, waitUntil } from '../stats.js'

/** The durability load. */
export interface DurabilityParams {
  readonly clients: number
  /** Edits per second offered by all clients together. */
  readonly editsPerSecond: number
  readonly durationMs: number
}

/** What one durability run measured. */
export interface DurabilityResult {
  readonly edits: number
  readonly acknowledged: number
  readonly lost: number
  /** Acknowledged edits per second, from the first send to the last acknowledgement. */
  readonly storedPerSecond: number
  readonly ackLatency: LatencySummary
  readonly serverCpuPerEditUs: number
}

const TICK_MS = 10

/** Runs the durability load against `server`. */
export const runDurability = async (
  server: RunningServer,
  params: DurabilityParams,
): Promise<DurabilityResult> => {
  const adapter = adapterFor(server.kind)
  const prefix = `durable-${randomBytes(3).toString('hex')}`
  const latency = new LatencyRecorder()
  const clients = Array.from({ length: params.clients }, (_, index) => {
    const doc = new Y.Doc()
    /** Send time by content message number, acknowledged in order. */
    const pending = new Map<number, number>()
    let lastAt = 0
    const client = new BenchClient({
      adapter,
      base: server.wsBase,
      docId: `${prefix}-${index}`,
      doc,
      wantsAcks: true,
      onAck: (upTo, atMs) => {
        for (const [seq, sentAt] of pending) {
          if (seq > upTo) break
          latency.record(atMs - sentAt)
          pending.delete(seq)
          lastAt = atMs
        }
      },
    })
    return { client, doc, pending, lastAckAt: () => lastAt }
  })

  try {
    await inBatches(clients, 20, ({ client }) => client.connect(30_000))
    const cpuBefore = server.cpuTimeMs()
    const start = performance.now()
    let edits = 0
    await new Promise<void>((resolve) => {
      const perClientPerTick = params.editsPerSecond / params.clients / (1000 / TICK_MS)
      let due = 0
      let ticks = 0
      const tick = (): void => {
        const now = performance.now()
        if (now - start >= params.durationMs) {
          resolve()
          return
        }
        // Catch up on ticks the timer was late for, so the offered rate holds.
        const target = Math.floor((now - start) / TICK_MS) + 1
        for (; ticks < target; ticks++) due += perClientPerTick
        const count = Math.floor(due)
        due -= count
        for (const { client, doc, pending } of clients) {
          for (let i = 0; i < count; i++) {
            let update: Uint8Array | null = null
            doc.once('update', (u: Uint8Array) => (update = u))
            const text = doc.getText('text')
            text.insert(text.length, 'x')
            if (update === null) continue
            pending.set(client.sendUpdate(update), performance.now())
            edits++
          }
        }
        setTimeout(tick, TICK_MS - ((performance.now() - start) % TICK_MS))
      }
      tick()
    })
    await waitUntil(() => clients.every(({ pending }) => pending.size === 0), 30_000)
    const cpuMs = server.cpuTimeMs() - cpuBefore
    const lastAck = Math.max(...clients.map(({ lastAckAt }) => lastAckAt()))
    const acknowledged = latency.count
    return {
      edits,
      acknowledged,
      lost: edits - acknowledged,
      storedPerSecond: round((acknowledged * 1000) / Math.max(1, lastAck - start)),
      ackLatency: latency.summarize(),
      serverCpuPerEditUs: round(acknowledged === 0 ? 0 : (cpuMs * 1000) / acknowledged),
    }
  } finally {
    for (const { client } of clients) client.terminate()
  }
}
