/**
 * How much one node's event loop stalls under two shocks, read from the
 * node's own /metrics (prom-client's nodejs_eventloop_lag_max_seconds,
 * which resets at each scrape):
 *
 * - a reconnect storm: 2,000 sockets opening at once on 20 documents of
 *   12 KB each, every one doing the sync handshake;
 * - opening a document whose stored history is 200,000 uncompacted updates,
 *   while another client's edits on another document are timed.
 *
 *   npm run bench:resilience              # 3 runs of each, medians
 *   npm run bench:resilience -- --quick   # 1 run of each
 *
 * The node (PostgreSQL and Redis, role all) is pinned to CPU 0 and this
 * load generator to CPU 1 (taskset). PostgreSQL from
 * QUIRE_BENCH_ADMIN_DATABASE_URL (a fresh database per run), Redis from
 * QUIRE_BENCH_REDIS_URL (a fresh key prefix per run). Results go to
 * bench/results/resilience.md and .json.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeSyncStep1, MessageType, SyncMessageType } from '@quire/protocol'
import pg from 'pg'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { type ClusterNode, ReplayClient, startLocalCluster } from '../src/index.js'
import { storeLongHistory } from './support/long-history.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ADMIN_URL =
  process.env.QUIRE_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.QUIRE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const isQuick = process.argv.includes('--quick')
const RUNS = isQuick ? 1 : 3
const STORM_SOCKETS = 2_000
const STORM_DOCUMENTS = 20
const HISTORY_UPDATES = 200_000

interface RunResult {
  readonly stormMs: number
  readonly stormLagMs: number
  readonly historyOpenMs: number
  readonly historyLagMs: number
  readonly otherEditMaxMs: number
}

const hasTaskset = (): boolean => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The node's event-loop lag maximum since its previous scrape, ms. */
const scrapeMaxLagMs = async (node: ClusterNode): Promise<number> => {
  const text = await (await fetch(`${node.url}/metrics`)).text()
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)
  return Number(match?.[1] ?? NaN) * 1000
}

/** Opens a socket, sends sync step 1, resolves once the server's step 2 arrives. */
const syncOnce = (url: string, step1: Uint8Array): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    socket.on('open', () => socket.send(step1))
    socket.on('message', (data: Buffer) => {
      if (data[0] === MessageType.Sync && data[1] === SyncMessageType.Step2) resolve(socket)
    })
    socket.on('error', reject)
  })

const runStorm = async (node: ClusterNode): Promise<{ ms: number; lagMs: number }> => {
  const docIds = Array.from(
    { length: STORM_DOCUMENTS },
    () => `storm-${randomBytes(4).toString('hex')}`,
  )
  for (const docId of docIds) {
    const seeder = new ReplayClient(node.wsUrl, docId)
    await seeder.whenSynced(30_000)
    seeder.doc.getText('text').insert(0, 'storm '.repeat(2_000))
    await seeder.whenAllSaved(30_000)
    seeder.destroy()
  }
  const step1 = encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))
  await scrapeMaxLagMs(node)
  const startedAt = performance.now()
  const sockets = await Promise.all(
    Array.from({ length: STORM_SOCKETS }, (_, i) =>
      syncOnce(`${node.wsUrl}/sync/${docIds[i % STORM_DOCUMENTS]}`, step1),
    ),
  )
  const ms = performance.now() - startedAt
  const lagMs = await scrapeMaxLagMs(node)
  for (const socket of sockets) socket.terminate()
  return { ms, lagMs }
}

const runHistoryOpen = async (
  node: ClusterNode,
  databaseUrl: string,
): Promise<{ ms: number; lagMs: number; otherEditMaxMs: number }> => {
  const docId = `history-${randomBytes(4).toString('hex')}`
  const expected = await storeLongHistory(databaseUrl, docId, HISTORY_UPDATES)
  const busyDoc = `busy-${randomBytes(4).toString('hex')}`
  const writer = new ReplayClient(node.wsUrl, busyDoc)
  const reader = new ReplayClient(node.wsUrl, busyDoc)
  await Promise.all([writer.whenSynced(30_000), reader.whenSynced(30_000)])
  await scrapeMaxLagMs(node)
  const startedAt = performance.now()
  const opening = new ReplayClient(node.wsUrl, docId)
  let isOpen = false
  const opened = opening.whenSynced(60_000).then(() => {
    isOpen = true
    return performance.now() - startedAt
  })
  let otherEditMaxMs = 0
  while (!isOpen) {
    const sentAt = performance.now()
    writer.doc.getText('text').insert(0, 'x')
    const length = writer.doc.getText('text').length
    while (reader.doc.getText('text').length < length) {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    otherEditMaxMs = Math.max(otherEditMaxMs, performance.now() - sentAt)
  }
  const ms = await opened
  const lagMs = await scrapeMaxLagMs(node)
  if (opening.doc.getText('text').toString() !== expected) throw new Error('history opened wrong')
  for (const client of [writer, reader, opening]) client.destroy()
  return { ms, lagMs, otherEditMaxMs }
}

const runOnce = async (): Promise<RunResult> => {
  const dbName = `quire_bench_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = `/${dbName}`
  const quire = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts')]
  const cluster = await startLocalCluster({
    quireCommand: hasTaskset() ? ['taskset', '-c', '0', ...quire] : quire,
    databaseUrl: dbUrl.toString(),
    redisUrl: REDIS_URL,
    nodes: 1,
    onOutput: (_index, line) => {
      if (process.env.QUIRE_BENCH_VERBOSE === '1') console.error(line)
    },
    serveArgs: [
      '--auth',
      'none',
      '--log-level',
      'warn',
      '--max-sockets-per-address',
      String(STORM_SOCKETS * 2),
      '--redis-prefix',
      `bench${randomBytes(4).toString('hex')}`,
    ],
  })
  try {
    const node = cluster.nodes[0] as ClusterNode
    const storm = await runStorm(node)
    const history = await runHistoryOpen(node, dbUrl.toString())
    return {
      stormMs: storm.ms,
      stormLagMs: storm.lagMs,
      historyOpenMs: history.ms,
      historyLagMs: history.lagMs,
      otherEditMaxMs: history.otherEditMaxMs,
    }
  } finally {
    await cluster.stop()
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.end()
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

const main = async (): Promise<void> => {
  if (hasTaskset())
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  const runs: RunResult[] = []
  for (let i = 0; i < RUNS; i++) {
    runs.push(await runOnce())
    console.log(`run ${i + 1}/${RUNS}:`, JSON.stringify(runs[runs.length - 1]))
  }
  const pick = (key: keyof RunResult): string => median(runs.map((run) => run[key])).toFixed(1)
  const machine =
    `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}`
  const markdown = [
    '# Resilience: event-loop stalls under shocks',
    '',
    `Measured ${new Date().toISOString()} on ${machine}; node pinned to CPU 0, load generator to CPU 1.`,
    `Medians of ${RUNS} run(s); \`npm run bench:resilience\`. Lag is the node's own`,
    '`nodejs_eventloop_lag_max_seconds` over the shock.',
    '',
    '| shock | time | node event-loop lag, max | other document, slowest edit |',
    '|---|---|---|---|',
    `| ${STORM_SOCKETS} sockets syncing at once (${STORM_DOCUMENTS} documents of 12 KB) | ${pick('stormMs')} ms until all synced | ${pick('stormLagMs')} ms | — |`,
    `| opening a ${HISTORY_UPDATES.toLocaleString('en')}-update uncompacted history | ${pick('historyOpenMs')} ms until synced | ${pick('historyLagMs')} ms | ${pick('otherEditMaxMs')} ms |`,
    '',
  ].join('\n')
  const dir = join(REPO_ROOT, 'bench/results')
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'resilience.md'), markdown)
  await writeFile(join(dir, 'resilience.json'), `${JSON.stringify({ machine, runs }, null, 2)}\n`)
  console.log(markdown)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
