/**
 * Field case F8 as a reusable check: many short sessions, each on its own
 * document, leave nothing behind (rooms, sessions, timers, heap) once their
 * rooms are unloaded (DOC-3), and every one of their documents is stored.
 * The suite runs it with 2,000 sessions; the fault suite with 20,000.
 *
 * How memory is measured: the node runs in the test's worker process, with
 * its logger at `warn` into a sink (a capture would keep every line and look
 * like a leak). `global.gc` is made available at run time
 * (`v8.setFlagsFromString('--expose-gc')`, then `gc` taken from a new V8
 * context). The heap is read after full collections repeated until it stops
 * shrinking: after a warm-up of 100 sessions (code, caches and PGlite's
 * buffers in place), after half the sessions and after all. Two bounds: 10 %
 * over the baseline at the end, and, since a leak grows with the sessions
 * while warm-up costs do not, the second half may add at most 5 % of the
 * baseline. For scale: the baseline is about 28 MiB, and a room kept in
 * memory costs about 12 KB, so 2,000 leaked rooms would add about 24 MiB.
 */
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { decodeQuireMessage, encodeSyncUpdate } from '@quire/protocol'
import { createLogger, type QuireServer, resolveServeConfig, startQuireServer } from '@quire/server'
import { expect } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, RawClient } from './clients.js'
import { makeTempDir } from './servers.js'
import { waitUntil } from './wait.js'

const WARM_UP_SESSIONS = 100
const CONCURRENCY = 20
const HEAP_GROWTH_BOUND = 0.1
const SECOND_HALF_GROWTH_BOUND = 0.05

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** Heap in use after full collections, repeated until it stops shrinking. */
export const measureHeapBytes = async (): Promise<number> => {
  let previous = Infinity
  for (let pass = 0; pass < 10; pass++) {
    collectGarbage()
    // Let finalizers and weak callbacks run before the next pass.
    await new Promise((resolve) => setImmediate(resolve))
    const used = process.memoryUsage().heapUsed
    if (used >= previous * 0.995) return Math.min(used, previous)
    previous = used
  }
  return previous
}

/** One update inserting 1 KB of text; every session sends it to its own document. */
export const makeKilobyteUpdate = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, 'session text '.repeat(80).slice(0, 1024))
  return Y.encodeStateAsUpdate(doc)
}

/** Connects to `docId`, sends `update`, waits for its saved acknowledgement, disconnects. */
const runSession = async (wsUrl: string, docId: string, update: Uint8Array): Promise<void> => {
  const client = await RawClient.open(wsUrl, docId, { saved: true })
  const saved = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no saved ack on ${docId}`)), 10_000)
    client.socket.on('message', (data: Buffer) => {
      if ((decodeQuireMessage(new Uint8Array(data))?.count ?? 0) < 1) return
      clearTimeout(timer)
      resolve()
    })
  })
  client.send(encodeSyncUpdate(update))
  await saved
  client.close()
  await client.closed
}

/** Runs sessions on `leak-<prefix>-<i>` for i in [from, to), `CONCURRENCY` at a time. */
const runSessions = async (
  wsUrl: string,
  prefix: string,
  [from, to]: readonly [number, number],
  update: Uint8Array,
): Promise<void> => {
  let next = from
  const worker = async (): Promise<void> => {
    while (next < to) {
      const index = next++
      await runSession(wsUrl, `leak-${prefix}-${index}`, update)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

/** A node whose logs go nowhere, so log lines kept by a capture do not count as heap. */
export const startQuietServer = async (
  dataDir: string,
  flags: Record<string, string> = {},
): Promise<QuireServer> => {
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() })
  const config = resolveServeConfig(
    { port: '0', dataDir, roomIdleMs: '0', auth: 'none', ...flags },
    {},
  )
  return startQuireServer(config, { logger: createLogger({ level: 'warn', destination: sink }) })
}

/** Runs `sessions` short sessions against a fresh embedded node and checks what remains. */
export const checkManySessions = async (sessions: number): Promise<void> => {
  const dataDir = await makeTempDir('leak')
  let server: QuireServer | undefined = await startQuietServer(dataDir.path)
  const runId = randomUUID().slice(0, 6)
  try {
    const node = server
    const update = makeKilobyteUpdate()

    await runSessions(node.wsUrl, `${runId}-warm`, [0, WARM_UP_SESSIONS], update)
    await waitUntil(() => node.rooms.roomCount === 0, 'warm-up rooms to unload')
    const baselineBytes = await measureHeapBytes()
    const baselineTimers = countTimers()

    const startedAt = Date.now()
    const heapBytes: number[] = []
    const half = Math.floor(sessions / 2)
    for (const range of [
      [0, half],
      [half, sessions],
    ] as const) {
      await runSessions(node.wsUrl, runId, range, update)
      // Rooms unload once their last socket is gone and their appends settled.
      await waitUntil(() => node.rooms.roomCount === 0, 'every room to unload', 60_000)
      expect(node.rooms.sessionCount).toBe(0)
      heapBytes.push(await measureHeapBytes())
    }
    const [middleBytes = 0, afterBytes = 0] = heapBytes
    const timers = countTimers()

    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
    console.log(
      `F8: ${sessions} sessions in ${Date.now() - startedAt} ms; heap ` +
        `${mib(baselineBytes)} MiB after warm-up, ${mib(middleBytes)} MiB after ` +
        `${half}, ${mib(afterBytes)} MiB after ${sessions}; timers ${baselineTimers} → ${timers}`,
    )
    expect((afterBytes - baselineBytes) / baselineBytes).toBeLessThan(HEAP_GROWTH_BOUND)
    expect((afterBytes - middleBytes) / baselineBytes).toBeLessThan(SECOND_HALF_GROWTH_BOUND)
    // Node-wide timers (ping, compaction sweeps) stay; none per session or room.
    expect(timers).toBeLessThanOrEqual(baselineTimers + 2)

    // A sample read back through the node, each loaded from the store.
    for (const index of [0, 1, half - 1, sessions - 1]) {
      const reader = await connectProvider(node.wsUrl, `leak-${runId}-${index}`)
      expect(reader.doc.getText('text').length).toBe(1024)
      reader.destroy()
    }

    // Every document, counted in the embedded database once the node is closed.
    await node.close()
    server = undefined
    const db = await PGlite.create(join(dataDir.path, 'pglite'))
    try {
      const result = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM documents WHERE id LIKE $1',
        [`leak-${runId}-%`],
      )
      expect(result.rows[0]?.n).toBe(WARM_UP_SESSIONS + sessions)
    } finally {
      await db.close()
    }
  } finally {
    await server?.close()
    await dataDir.remove()
  }
}

/** Active timers of this process (Node's own view of its event loop resources). */
const countTimers = (): number =>
  process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
