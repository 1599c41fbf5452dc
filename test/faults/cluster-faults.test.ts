/**
 * Three real nodes behind nginx, clients typing through nginx, and one
 * fault at a time: a node killed with SIGKILL, Redis restarted empty,
 * PostgreSQL frozen for 10 s, a node stopped with SIGTERM. After each, every
 * token any client typed is in every client's document and in PostgreSQL.
 */
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { CloseCode } from '@quire/protocol'
import { type LocalCluster, startLocalCluster } from '@quire/tools'
import { afterEach, describe, expect, inject, it } from 'vitest'
import {
  freezePostgres,
  missingTokens,
  readRssBytes,
  TestRedis,
  TypingClient,
} from '../support/faults.js'
import { REPO_ROOT } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'
import { readStoredText } from '../support/stored.js'

const CLIENTS = 6
const TYPE_INTERVAL_MS = 40

interface Rig {
  readonly redis: TestRedis
  readonly cluster: LocalCluster
  readonly clients: TypingClient[]
  readonly docId: string
}

let rig: Rig | null = null

interface RigOptions {
  readonly persisters?: number
  readonly redisArgs?: readonly string[]
}

const startRig = async (name: string, options: RigOptions = {}): Promise<Rig> => {
  const redis = await TestRedis.start(options.redisArgs)
  const cluster = await startLocalCluster({
    persisters: options.persisters ?? 0,
    quireCommand: [
      process.execPath,
      '--import',
      'tsx',
      join(REPO_ROOT, 'packages/cli/src/main.ts'),
    ],
    databaseUrl: inject('databaseUrl'),
    redisUrl: redis.url,
    serveArgs: [
      '--auth',
      'none',
      '--log-level',
      'warn',
      '--ping-interval-ms',
      '1000',
      '--persist-claim-idle-ms',
      '2000',
    ],
  })
  const docId = `${name}-${Date.now()}`
  const clients = Array.from(
    { length: CLIENTS },
    (_, i) => new TypingClient(cluster.proxyWsUrl, docId, `c${i}`),
  )
  await Promise.all(clients.map((c) => c.client.whenSynced(15_000)))
  rig = { redis, cluster, clients, docId }
  return rig
}

afterEach(async () => {
  if (rig === null) return
  for (const client of rig.clients) client.destroy()
  await rig.cluster.stop()
  await rig.redis.stop()
  rig = null
})

/** Stops typing, waits until every client has synced and been acknowledged, and checks every token everywhere. */
const expectEveryTokenEverywhere = async ({ clients, docId }: Rig): Promise<void> => {
  for (const client of clients) client.stop()
  const typed = clients.flatMap((c) => c.typed)
  await waitUntil(
    () => clients.every((c) => c.client.provider.synced && c.client.tracker.isAllSaved),
    'every client synced and acknowledged',
    60_000,
    50,
  )
  await waitUntil(
    () => clients.every((c) => missingTokens(c.client.text(), typed).length === 0),
    'every token on every client',
    30_000,
    50,
  )
  const texts = new Set(clients.map((c) => c.client.text()))
  expect(texts.size).toBe(1)
  const stored = await readStoredText(inject('databaseUrl'), docId)
  expect(missingTokens(stored, typed)).toEqual([])
  expect(stored).toBe([...texts][0])
}

/** Resolves once `count` more tokens have been typed in total. */
const typeFor = async (clients: readonly TypingClient[], count: number): Promise<void> => {
  const target = clients.reduce((sum, c) => sum + c.typed.length, 0) + count
  await waitUntil(
    () => clients.reduce((sum, c) => sum + c.typed.length, 0) >= target,
    `${count} more tokens`,
    30_000,
  )
}

describe('faults under a 3-node cluster behind nginx', () => {
  it('loses nothing when a node is killed with SIGKILL while clients on every node type', async () => {
    const r = await startRig('kill9')
    for (const client of r.clients) client.start(TYPE_INTERVAL_MS)
    await typeFor(r.clients, 60)
    await r.cluster.stopNode(1, 'SIGKILL')
    await typeFor(r.clients, 60)
    await expectEveryTokenEverywhere(r)
    // The killed node's clients were cut off and came back through nginx.
    expect(r.clients.some((c) => c.client.tracker.counters.connections > 1)).toBe(true)
  })

  it('loses nothing when Redis restarts empty while clients type', async () => {
    const r = await startRig('redis-restart')
    for (const client of r.clients) client.start(TYPE_INTERVAL_MS)
    await typeFor(r.clients, 60)
    await r.redis.restart()
    await typeFor(r.clients, 60)
    await expectEveryTokenEverywhere(r)
  })

  it('keeps serving live edits with bounded memory while PostgreSQL is frozen for 10 s', async () => {
    const r = await startRig('pg-freeze')
    for (const client of r.clients) client.start(TYPE_INTERVAL_MS)
    await typeFor(r.clients, 30)
    const pids = r.cluster.nodes.map((node) => node.process.pid as number)
    const rssBefore = pids.map(readRssBytes)
    const thaw = freezePostgres()
    let rssPeak = rssBefore.slice()
    try {
      const frozenAt = Date.now()
      while (Date.now() - frozenAt < 10_000) {
        // Live edits still cross nodes while the database is frozen.
        const writer = r.clients[0] as TypingClient
        const token = writer.typeOne()
        const startedAt = Date.now()
        await waitUntil(
          () => r.clients.every((c) => c.client.text().includes(token)),
          'a live edit to reach every client during the freeze',
          2_000,
          5,
        )
        expect(Date.now() - startedAt).toBeLessThan(1_000)
        rssPeak = pids.map((pid, i) => Math.max(rssPeak[i] ?? 0, readRssBytes(pid)))
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    } finally {
      thaw()
    }
    const growthMb = pids.map((_, i) => ((rssPeak[i] ?? 0) - (rssBefore[i] ?? 0)) / 2 ** 20)
    console.log(
      `node RSS growth during a 10 s PostgreSQL freeze: ${growthMb.map((mb) => mb.toFixed(1)).join(', ')} MiB`,
    )
    for (const mb of growthMb) expect(mb).toBeLessThan(100)
    await expectEveryTokenEverywhere(r)
  })

  it('moves clients on at once when a node is stopped with SIGTERM, after it flushed what it held', async () => {
    const r = await startRig('sigterm')
    for (const client of r.clients) client.start(TYPE_INTERVAL_MS)
    await typeFor(r.clients, 60)
    const stoppedAt = Date.now()
    await r.cluster.stopNode(2, 'SIGTERM')
    const moved = r.clients.filter((c) =>
      c.client.tracker.counters.closeCodes.includes(CloseCode.ServiceRestart),
    )
    expect(moved.length).toBeGreaterThan(0)
    await waitUntil(
      () => moved.every((c) => c.client.provider.synced),
      'moved clients synced elsewhere',
      5_000,
      10,
    )
    const movedAfterMs = Date.now() - stoppedAt
    console.log(
      `clients of the stopped node were synced on another node ${movedAfterMs} ms after SIGTERM`,
    )
    expect(r.cluster.nodes[2]?.process.exitCode).toBe(0)
    await typeFor(r.clients, 30)
    await expectEveryTokenEverywhere(r)
  })

  it('takes over the work of a persister killed mid-stream, writing each update once', async () => {
    const r = await startRig('persister-kill', { persisters: 2 })
    for (const client of r.clients) client.start(TYPE_INTERVAL_MS / 2)
    await typeFor(r.clients, 60)
    await r.cluster.stopPersister(0, 'SIGKILL')
    await typeFor(r.clients, 120)
    await expectEveryTokenEverywhere(r)
    const db = new pg.Client({ connectionString: inject('databaseUrl') })
    await db.connect()
    const { rows } = await db.query<{ count: string; distinct: string }>(
      'SELECT count(*) AS count, count(DISTINCT bus_id) AS distinct FROM updates WHERE doc_id = $1',
      [r.docId],
    )
    await db.end()
    expect(rows[0]?.count).toBe(rows[0]?.distinct)
  })

  it('reconnects to Redis after it closed idle connections, and an edit after the idle spell arrives within 1 s (F15)', async () => {
    // Redis closes connections idle for 1 s, as a `timeout` setting or an idle proxy would.
    const r = await startRig('t394', { redisArgs: ['--timeout', '1'] })
    const [writer, reader] = r.clients as [TypingClient, TypingClient]
    writer.typeOne()
    await waitUntil(() => reader.client.text().includes('<c0.0>'), 'first edit')
    const admin = new Redis(r.redis.url)
    const idsBefore = await commandConnectionIds(admin)
    await waitUntil(
      async () => {
        const ids = await commandConnectionIds(admin)
        return ids.every((id) => !idsBefore.includes(id))
      },
      'Redis to drop every idle command connection',
      20_000,
      250,
    )
    await admin.quit()
    const token = writer.typeOne()
    const sentAt = Date.now()
    await waitUntil(
      () => reader.client.text().includes(token),
      'the edit after the idle spell',
      5_000,
      5,
    )
    expect(Date.now() - sentAt).toBeLessThan(1_000)
    await expectEveryTokenEverywhere(r)
  })
})

/** Client ids of the nodes' command connections. */
const commandConnectionIds = async (admin: Redis): Promise<string[]> => {
  const list = (await admin.client('LIST')) as string
  return list
    .split('\n')
    .filter((line) => line.includes('-command'))
    .map((line) => /id=(\d+)/.exec(line)?.[1] ?? '')
}
