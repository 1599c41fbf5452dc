/**
 * Fan-out latency within one node and across nodes: 3 nodes joined by
 * Redis, 50 clients typing into one document, each client connected
 * directly to a known node (round-robin). For every edit, the time from the
 * send on one client to its arrival at every other client is recorded,
 * split by whether sender and receiver sit on the same node.
 *
 *   npm run bench:cross-node              # 3 runs of 20 s, medians
 *   npm run bench:cross-node -- --quick   # 1 run of 5 s
 *
 * The nodes are pinned to CPU 0 and this load generator to CPU 1 (taskset).
 * PostgreSQL from QUIRE_BENCH_ADMIN_DATABASE_URL (a fresh database per run),
 * Redis from QUIRE_BENCH_REDIS_URL (a fresh key prefix per run).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import * as Y from 'yjs'
import {
  LatencyRecorder,
  type LatencySummary,
  ReplayClient,
  startLocalCluster,
} from '../src/index.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ADMIN_URL =
  process.env.QUIRE_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.QUIRE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const isQuick = process.argv.includes('--quick')
const NODES = 3
const CLIENTS = 50
const EDIT_INTERVAL_MS = 500
const RUN_MS = isQuick ? 5_000 : 20_000
const RUNS = isQuick ? 1 : 3
/** Whether the nodes are pinned to CPU 0 (QUIRE_BENCH_PIN_NODES=0 lets them float). */
const PIN_NODES = process.env.QUIRE_BENCH_PIN_NODES !== '0'
/** Separate persister processes; 0 runs one inside each node. */
const PERSISTERS = Number(process.env.QUIRE_BENCH_PERSISTERS ?? 1)

interface RunResult {
  readonly sameNode: LatencySummary
  readonly crossNode: LatencySummary
  readonly edits: number
}

const hasTaskset = (): boolean => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const runOnce = async (): Promise<RunResult> => {
  const dbName = `quire_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = `/${dbName}`
  const node = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts')]
  const cluster = await startLocalCluster({
    quireCommand: hasTaskset() && PIN_NODES ? ['taskset', '-c', '0', ...node] : node,
    databaseUrl: dbUrl.toString(),
    redisUrl: REDIS_URL,
    nodes: NODES,
    persisters: PERSISTERS,
    serveArgs: [
      '--auth',
      'none',
      '--log-level',
      'warn',
      '--redis-prefix',
      `bench${randomBytes(4).toString('hex')}`,
    ],
  })
  const docId = `cross-${randomBytes(3).toString('hex')}`
  const clients = Array.from({ length: CLIENTS }, (_, i) => ({
    node: i % NODES,
    client: new ReplayClient(cluster.nodes[i % NODES]?.wsUrl as string, docId),
  }))
  const sameNode = new LatencyRecorder()
  const crossNode = new LatencyRecorder()
  /** Yjs clientID → [end clock, send time] of its edits, in order. */
  const sent = new Map<number, { node: number; edits: [number, number][] }>()
  try {
    await Promise.all(clients.map(({ client }) => client.whenSynced(30_000)))
    for (const { node, client } of clients) sent.set(client.doc.clientID, { node, edits: [] })
    for (const receiver of clients) {
      const pointers = new Map<number, number>()
      receiver.client.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== receiver.client.provider) return
        const now = performance.now()
        for (const clientId of Y.parseUpdateMeta(update).to.keys()) {
          const sender = sent.get(clientId)
          if (sender === undefined) continue
          const clock = Y.getState(receiver.client.doc.store, clientId)
          let pointer = pointers.get(clientId) ?? 0
          while (
            pointer < sender.edits.length &&
            (sender.edits[pointer]?.[0] ?? Infinity) <= clock
          ) {
            const sentAt = sender.edits[pointer]?.[1] ?? now
            ;(sender.node === receiver.node ? sameNode : crossNode).record(now - sentAt)
            pointer++
          }
          pointers.set(clientId, pointer)
        }
      })
    }
    // Each client types one character every EDIT_INTERVAL_MS, phases spread out.
    let edits = 0
    const timers = clients.map(({ client }, i) =>
      setTimeout(
        () => {
          const interval = setInterval(() => {
            const text = client.doc.getText('text')
            const record = sent.get(client.doc.clientID)
            text.insert(text.length === 0 ? 0 : Math.floor(Math.random() * text.length), 'x')
            record?.edits.push([
              Y.getState(client.doc.store, client.doc.clientID),
              performance.now(),
            ])
            edits++
          }, EDIT_INTERVAL_MS)
          timers.push(interval)
        },
        (i * EDIT_INTERVAL_MS) / CLIENTS,
      ),
    )
    await new Promise((resolve) => setTimeout(resolve, RUN_MS))
    for (const timer of timers) clearInterval(timer)
    await Promise.all(clients.map(({ client }) => client.whenAllSaved(30_000)))
    return { sameNode: sameNode.summarize(), crossNode: crossNode.summarize(), edits }
  } finally {
    for (const { client } of clients) client.destroy()
    await cluster.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.end()
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

const main = async (): Promise<void> => {
  if (hasTaskset())
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  const runs: RunResult[] = []
  for (let i = 0; i < RUNS; i++) {
    const run = await runOnce()
    process.stderr.write(`run ${i + 1}: ${JSON.stringify(run)}\n`)
    runs.push(run)
  }
  const pick = (side: 'sameNode' | 'crossNode', field: keyof LatencySummary): number =>
    median(runs.map((run) => run[side][field]))
  const lines = [
    `# Cross-node fan-out latency${isQuick ? ' (quick)' : ''}`,
    '',
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}.`,
    `${NODES} nodes joined by Redis Streams (pinned to CPU 0), ${CLIENTS} clients in one document (load generator on CPU 1),`,
    `each typing one character every ${EDIT_INTERVAL_MS} ms for ${RUN_MS / 1000} s; ${RUNS} run(s), medians shown.`,
    `Reproduce: \`npm run bench:cross-node${isQuick ? ' -- --quick' : ''}\`.`,
    '',
    '| receiver | deliveries (median run) | p50 | p95 | p99 | max |',
    '|---|---:|---:|---:|---:|---:|',
    ...(['sameNode', 'crossNode'] as const).map(
      (side) =>
        `| ${side === 'sameNode' ? 'same node' : 'other node'} | ${pick(side, 'count')} | ${pick(side, 'p50Ms')} ms | ${pick(side, 'p95Ms')} ms | ${pick(side, 'p99Ms')} ms | ${pick(side, 'maxMs')} ms |`,
    ),
    '',
  ]
  const dir = join(REPO_ROOT, 'bench/results')
  await mkdir(dir, { recursive: true })
  const suffix = isQuick ? '-quick' : ''
  await writeFile(join(dir, `cross-node${suffix}.md`), lines.join('\n'))
  await writeFile(join(dir, `cross-node${suffix}.json`), `${JSON.stringify({ runs }, null, 2)}\n`)
  process.stdout.write(lines.join('\n'))
}

await main()
