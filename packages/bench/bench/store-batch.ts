/**
 * CPU per group commit of the update log on the embedded store (PGlite), by
 * batch size: what one edit costs to store when it commits alone (the fan-out
 * workload's case) and per record in larger batches (the durability case).
 *
 *   node --import tsx packages/bench/bench/store-batch.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { openEmbeddedStore } from '../../server/src/store/index.js'

const dir = await mkdtemp(join(tmpdir(), 'quire-store-batch-'))
const store = await openEmbeddedStore({
  dataDir: dir,
  logger: pino({ level: 'warn' }),
  maxBatchDelayMs: 0,
})
const update = new Uint8Array(30).fill(1)
let busId = 0

const measure = async (batches: number, size: number): Promise<void> => {
  const before = process.cpuUsage()
  for (let batch = 0; batch < batches; batch++) {
    const appends = Array.from({ length: size }, (_, index) =>
      store.appendUpdate({
        docId: `doc-${index % 10}`,
        update,
        userId: null,
        connId: 'bench',
        receivedAtMs: Date.now(),
        busId: `bench:${busId++}`,
      }),
    )
    await Promise.all(appends)
  }
  const used = process.cpuUsage(before)
  const perBatch = (used.user + used.system) / batches
  console.log(
    `batch of ${size}: ${Math.round(perBatch)} µs CPU, ${Math.round(perBatch / size)} µs per record`,
  )
}

await measure(200, 1) // warm-up
for (const [batches, size] of [
  [300, 1],
  [100, 10],
  [50, 50],
  [20, 200],
] as const)
  await measure(batches, size)
await store.close()
await rm(dir, { recursive: true, force: true })
