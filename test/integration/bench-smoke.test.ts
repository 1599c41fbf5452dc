/**
 * A smoke run of the comparative benchmark (`npm run bench`, packages/bench):
 * every workload at a tiny size against every server, checking that each
 * produces sane numbers and loses nothing. The full benchmark is not run
 * here; its figures are in bench/results/compare.md.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { SERVER_KINDS, type ServerKind } from '../../packages/bench/src/client/adapters.js'
import { launchServer, type RunningServer } from '../../packages/bench/src/servers/launch.js'
import { createStorage, type ServerStorage } from '../../packages/bench/src/servers/storage.js'
import { runDocument } from '../../packages/bench/src/workloads/document.js'
import { runDurability } from '../../packages/bench/src/workloads/durability.js'
import { runFanOut } from '../../packages/bench/src/workloads/fan-out.js'
import { runMemory } from '../../packages/bench/src/workloads/memory.js'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** One server (and its storage) per kind, shared by the workloads that need a fresh one. */
const start = async (
  kind: ServerKind,
  args: readonly string[] = [],
): Promise<{ server: RunningServer; storage: ServerStorage }> => {
  const storage = await createStorage(kind)
  cleanups.push(() => storage.dispose())
  const server = await launchServer(kind, { args: [...storage.args, ...args] })
  cleanups.push(() => server.stop())
  return { server, storage }
}

// The servers run side by side to keep this short; the bounds are loose enough for it.
describe.concurrent.each(SERVER_KINDS)('bench smoke: %s', (kind) => {
  const isQuire = kind.startsWith('quire')

  it('fans edits out to every other client, none lost, and reads memory', async () => {
    const { server } = await start(kind, isQuire ? ['--room-idle-ms', '200'] : [])
    const fanOut = await runFanOut(server, {
      name: 'smoke',
      clients: 6,
      writers: 3,
      editsPerSecond: 10,
      durationMs: 800,
    })
    expect(fanOut.edits).toBeGreaterThan(10)
    expect(fanOut.lost).toBe(0)
    expect(fanOut.deliveries).toBe(fanOut.edits * 5)
    expect(fanOut.latency.p50Ms).toBeGreaterThan(0)
    expect(fanOut.latency.p99Ms).toBeLessThan(2_000)
    expect(fanOut.latency.maxMs).toBeGreaterThanOrEqual(fanOut.latency.p99Ms)
    expect(fanOut.serverCpuMs).toBeGreaterThanOrEqual(0)
    expect(Number.isFinite(fanOut.serverCpuPerDeliveryUs)).toBe(true)

    const memory = await runMemory(server, { documents: 20, textBytes: 256, unloadWaitMs: 3_000 })
    expect(memory.baselineHeapBytes).toBeGreaterThan(1_000_000)
    expect(memory.loadedRssBytes).toBeGreaterThan(10_000_000)
    expect(Number.isFinite(memory.heapPerDocumentBytes)).toBe(true)
    expect(memory.heapPerDocumentBytes).toBeLessThan(1_000_000)
  })

  // Quire runs six fresh nodes in a row here (warm, raw cold, compaction,
  // compacted cold, warm again), each a cold start from source (tsx, and
  // PGlite's WebAssembly when embedded): 5-9 s apiece on this machine, so
  // the budget is that of six starts, not of the work.
  it('opens a trace document and lets a small storm join it', async () => {
    const storage = await createStorage(kind)
    cleanups.push(() => storage.dispose())
    const result = await runDocument(kind, storage, { traceTxns: 300, stormSizes: [5], runs: 1 })
    expect(result.updates).toBe(300)
    expect(result.isTextCorrect).toBe(true)
    expect(result.warmOpenMs).toHaveLength(1)
    expect(result.stormMs['5']?.[0]).toBeGreaterThan(0)
    if (isQuire) {
      expect(result.coldRawMs[0]).toBeGreaterThan(0)
      expect(result.coldCompactedMs[0]).toBeGreaterThan(0)
    } else {
      expect(result.coldRawMs).toEqual([])
    }
  }, 240_000)

  it.runIf(isQuire)('acknowledges every edit as stored', async () => {
    const { server } = await start(kind)
    const result = await runDurability(server, { clients: 2, editsPerSecond: 100, durationMs: 800 })
    expect(result.edits).toBeGreaterThan(50)
    expect(result.lost).toBe(0)
    expect(result.storedPerSecond).toBeGreaterThan(0)
    expect(result.ackLatency.p50Ms).toBeGreaterThan(0)
  })
})
