/**
 * Memory: `documents` documents, each with one connection that wrote
 * `textBytes` characters. The server's heap and RSS (after forced garbage
 * collection, probe.ts) before, with every document open, and after every
 * connection closed and the server unloaded them.
 */
import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import { BenchClient } from '../client/bench-client.js'
import { adapterFor } from '../client/adapters.js'
import { type RunningServer, readQuireMetrics } from '../servers/launch.js'
import { inBatches, round, sleep } from '../stats.js'

/** The memory load. */
export interface MemoryParams {
  readonly documents: number
  readonly textBytes: number
  /** How long to wait for the heap to return to its baseline after the closes. */
  readonly unloadWaitMs: number
}

/** What one memory run measured. */
export interface MemoryResult {
  readonly baselineHeapBytes: number
  readonly baselineRssBytes: number
  readonly loadedHeapBytes: number
  readonly loadedRssBytes: number
  readonly heapPerDocumentBytes: number
  readonly rssPerDocumentBytes: number
  /** Heap after all closed minus the baseline. */
  readonly heapAfterCloseDeltaBytes: number
  /** Whether the heap after the closes is within 10% of what the documents added (or 1 MiB). */
  readonly isHeapBackToBaseline: boolean
  /** Quire only: its own /metrics figures with the documents open (no forced GC). */
  readonly quireMetricsHeapPerDocumentBytes: number
  readonly quireMetricsRssPerDocumentBytes: number
}

/** Documents opened and closed before the baseline is read. */
const WARM_UP_DOCUMENTS = 20

const QUIRE_MEMORY_METRICS = ['nodejs_heap_size_used_bytes', 'process_resident_memory_bytes']

/** Runs the memory load against a fresh `server`. */
export const runMemory = async (
  server: RunningServer,
  params: MemoryParams,
): Promise<MemoryResult> => {
  const adapter = adapterFor(server.kind)
  const isQuire = server.kind.startsWith('quire')
  const prefix = `mem-${randomBytes(3).toString('hex')}`
  const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(params.textBytes / 26))
  const clients: BenchClient[] = []
  const open = (count: number, name: string): Promise<void> =>
    inBatches(
      Array.from({ length: count }, (_, i) => i),
      50,
      async (index) => {
        const doc = new Y.Doc()
        const client = new BenchClient({
          adapter,
          base: server.wsBase,
          docId: `${prefix}-${name}-${index}`,
          doc,
        })
        clients.push(client)
        await client.connect(30_000)
        let update: Uint8Array | null = null
        doc.once('update', (u: Uint8Array) => (update = u))
        doc.getText('text').insert(0, text.slice(0, params.textBytes))
        if (update === null) throw new Error('no update from the insert')
        client.sendUpdate(update)
        await client.barrier(30_000)
      },
    )
  const closeAll = async (): Promise<void> => {
    await Promise.all(clients.map((client) => client.close()))
    clients.length = 0
  }

  // Warm up first (code paths compiled, pools and buffers allocated), so the
  // baseline is a server that has served documents, not a pristine one.
  await open(WARM_UP_DOCUMENTS, 'warm')
  await closeAll()
  // Past Quire's --room-idle-ms (2 s in the benchmark) the warm-up rooms are gone.
  await sleep(Math.min(3_000, params.unloadWaitMs))
  await waitForHeapToSettle(server, params.unloadWaitMs)
  const quireBefore = isQuire ? await readQuireMetrics(server, QUIRE_MEMORY_METRICS) : {}
  const baseline = await server.stats()

  try {
    await open(params.documents, 'doc')
    await sleep(1_000)
    const loaded = await server.stats()
    const quireLoaded = isQuire ? await readQuireMetrics(server, QUIRE_MEMORY_METRICS) : {}
    await closeAll()

    // Wait for the server to unload the documents (Quire: --room-idle-ms).
    const added = loaded.heapUsedBytes - baseline.heapUsedBytes
    const allowance = Math.max(added * 0.1, 2 ** 20)
    const deadline = performance.now() + params.unloadWaitMs
    let after = await server.stats()
    while (
      after.heapUsedBytes - baseline.heapUsedBytes > allowance &&
      performance.now() < deadline
    ) {
      await sleep(1_000)
      after = await server.stats()
    }
    const perDoc = (value: number): number => Math.round(value / params.documents)
    const metric = (values: Record<string, number>, name: string): number => values[name] ?? 0
    return {
      baselineHeapBytes: baseline.heapUsedBytes,
      baselineRssBytes: baseline.rssBytes,
      loadedHeapBytes: loaded.heapUsedBytes,
      loadedRssBytes: loaded.rssBytes,
      heapPerDocumentBytes: perDoc(added),
      rssPerDocumentBytes: perDoc(loaded.rssBytes - baseline.rssBytes),
      heapAfterCloseDeltaBytes: after.heapUsedBytes - baseline.heapUsedBytes,
      isHeapBackToBaseline: after.heapUsedBytes - baseline.heapUsedBytes <= allowance,
      quireMetricsHeapPerDocumentBytes: perDoc(
        metric(quireLoaded, QUIRE_MEMORY_METRICS[0] as string) -
          metric(quireBefore, QUIRE_MEMORY_METRICS[0] as string),
      ),
      quireMetricsRssPerDocumentBytes: round(
        perDoc(
          metric(quireLoaded, QUIRE_MEMORY_METRICS[1] as string) -
            metric(quireBefore, QUIRE_MEMORY_METRICS[1] as string),
        ),
      ),
    }
  } finally {
    for (const client of clients) client.terminate()
  }
}

/** Waits until two heap readings a second apart differ by under 256 KiB, or `timeoutMs`. */
const waitForHeapToSettle = async (server: RunningServer, timeoutMs: number): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  let previous = (await server.stats()).heapUsedBytes
  while (performance.now() < deadline) {
    await sleep(1_000)
    const current = (await server.stats()).heapUsedBytes
    if (Math.abs(current - previous) < 256 * 1024) return
    previous = current
  }
}
