/**
 * History retention against real databases (STORE-4): what pruning
 * removes, what it must never remove (the current state, the updates after
 * the latest checkpoint, named versions, the newest checkpoint of each
 * period), the lock that lets one process prune at a time, and pruning
 * while a writer appends and the compactor runs.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { listVersions, loadStateAt, saveNamedVersion } from './history.js'
import { startHistoryPruner } from './history-pruner.js'
import {
  pruneHistory,
  readHistoryPrunedSeq,
  RETENTION_LOCK_KEY,
  type RetentionPolicy,
} from './history-retention.js'
import { createPgClient } from './pg-client.js'
import type { SqlClient } from './sql-client.js'
import { createSqlDocumentStore, type SqlDocumentStore } from './sql-document-store.js'
import {
  createTestLogger,
  makeRecord,
  randomDocId,
  readText,
  TEST_ENGINES,
  type TestDatabase,
  typeText,
  waitUntil,
} from './store-test-support.js'

const DAY_MS = 86_400_000

/**
 * A PostgreSQL database of this file's own: pruning with a clock moved
 * months ahead would otherwise thin the history of documents other test
 * files are checking in the shared test database.
 */
const openPrivatePostgres = async (): Promise<TestDatabase & { readonly url: string }> => {
  const adminUrl = inject('adminDatabaseUrl')
  const name = `quire_retention_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const connectionString = url.toString()
  return {
    url: connectionString,
    connect: async () => createPgClient({ connectionString, maxConnections: 4 }),
    openWithFactory: () => Promise.reject(new Error('not used')),
    async cleanup() {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await client.end()
    },
  }
}

const ENGINES = [
  ...TEST_ENGINES.filter((engine) => engine.name === 'PGlite'),
  { name: 'PostgreSQL', open: openPrivatePostgres },
]
const POLICY: RetentionPolicy = { retentionDays: 30, checkpointSpacingHours: 24 }

const textAt = (state: Uint8Array | null): string | null => {
  if (state === null) return null
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  const text = doc.getText('text').toString()
  doc.destroy()
  return text
}

/** Sets when the checkpoint of `docId` at `seq` (unnamed, or named `name`) was made. */
const setCheckpointTime = async (
  sql: SqlClient,
  docId: string,
  seq: number,
  at: Date,
  name: string | null = null,
): Promise<void> => {
  await sql.query(
    `UPDATE checkpoints SET created_at = $3
      WHERE doc_id = $1 AND seq = $2 AND name IS NOT DISTINCT FROM $4`,
    [docId, seq, at, name],
  )
}

/** The start of the UTC day `days` days before `now`, so offsets of hours stay in one period. */
const dayStart = (now: Date, days: number): number =>
  Math.floor((now.getTime() - days * DAY_MS) / DAY_MS) * DAY_MS

describe.each(ENGINES)('history retention on $name', (engine) => {
  let database: TestDatabase
  let store: SqlDocumentStore
  let sql: SqlClient

  beforeAll(async () => {
    database = await engine.open()
    const { logger } = createTestLogger()
    store = await createSqlDocumentStore({
      client: await database.connect(),
      logger,
      compactAfterUpdates: 1_000_000,
      compactIntervalMs: 86_400_000,
    })
    sql = store.sql
  })

  afterAll(async () => {
    await store.close()
    await database.cleanup()
  })

  /** Appends `updates` to `docId` and waits until they are committed. */
  const append = async (docId: string, updates: readonly Uint8Array[]): Promise<void> => {
    await Promise.all(updates.map((update) => store.appendUpdate(makeRecord(docId, update))))
  }

  it('thins old history to kept checkpoints and never touches the current state', async () => {
    const docId = randomDocId()
    const updates = typeText('hello world!!!')
    // Checkpoints at 3, 9 and 12, a named version at 6, and a tail 13-14.
    await append(docId, updates.slice(0, 3))
    await store.compactDocument(docId)
    await append(docId, updates.slice(3, 6))
    expect(await saveNamedVersion(sql, docId, 'Draft', 'user-1')).toBe(6)
    await append(docId, updates.slice(6, 9))
    await store.compactDocument(docId)
    await append(docId, updates.slice(9, 12))
    await store.compactDocument(docId)
    await append(docId, updates.slice(12))

    const now = new Date()
    await setCheckpointTime(sql, docId, 3, new Date(dayStart(now, 50) + 3_600_000))
    await setCheckpointTime(sql, docId, 6, new Date(dayStart(now, 45)), 'Draft')
    // Two checkpoints in one day: only the newer one stays.
    await setCheckpointTime(sql, docId, 9, new Date(dayStart(now, 40) + 3_600_000))
    await setCheckpointTime(sql, docId, 12, new Date(dayStart(now, 40) + 2 * 3_600_000))
    const before = await store.loadDocument(docId)

    const summary = await pruneHistory(sql, POLICY, { now })

    expect(summary).toMatchObject({ isBusy: false })
    expect(await store.loadDocument(docId)).toEqual(before)
    expect(readText(await store.loadDocument(docId))).toBe('hello world!!!')
    expect(await readHistoryPrunedSeq(sql, docId)).toBe(12)
    const seqs = await sql.query<{ seq: number }>(
      'SELECT seq FROM updates WHERE doc_id = $1 ORDER BY seq',
      [docId],
    )
    expect(seqs.map((row) => row.seq)).toEqual([13, 14])
    const { versions } = await listVersions(sql, docId)
    expect(versions.map((version) => [version.seq, version.name])).toEqual([
      [12, null],
      [6, 'Draft'],
      [3, null],
    ])

    // Kept checkpoints still open; pruned states do not; the tail is whole.
    expect(textAt(await loadStateAt(sql, docId, 3))).toBe('hel')
    expect(textAt(await loadStateAt(sql, docId, 6))).toBe('hello ')
    expect(textAt(await loadStateAt(sql, docId, 12))).toBe('hello world!')
    expect(textAt(await loadStateAt(sql, docId, 13))).toBe('hello world!!')
    expect(textAt(await loadStateAt(sql, docId, 14))).toBe('hello world!!!')
    for (const seq of [1, 5, 8, 9, 11]) expect(await loadStateAt(sql, docId, seq)).toBeNull()

    // A second pass finds nothing more to do for this document.
    const again = await pruneHistory(sql, POLICY, { now })
    expect(await store.loadDocument(docId)).toEqual(before)
    expect(await readHistoryPrunedSeq(sql, docId)).toBe(12)
    expect(again.deletedUpdates + again.deletedCheckpoints).toBe(0)
  })

  it('keeps everything newer than the window, and everything when retention is 0 days', async () => {
    const docId = randomDocId()
    const updates = typeText('recent')
    await append(docId, updates.slice(0, 3))
    await store.compactDocument(docId)
    await append(docId, updates.slice(3))
    const now = new Date()

    await pruneHistory(sql, POLICY, { now })
    await pruneHistory(
      sql,
      { ...POLICY, retentionDays: 0 },
      { now: new Date(now.getTime() + 99 * DAY_MS) },
    )

    const { count } = (
      await sql.query<{ count: number }>(
        'SELECT count(*)::int AS count FROM updates WHERE doc_id = $1',
        [docId],
      )
    )[0] ?? { count: -1 }
    expect(count).toBe(6)
    expect(await readHistoryPrunedSeq(sql, docId)).toBe(0)
  })

  it('keeps every update of a document that has no checkpoint', async () => {
    const docId = randomDocId()
    await append(docId, typeText('no checkpoint'))

    await pruneHistory(sql, POLICY, { now: new Date(Date.now() + 90 * DAY_MS) })

    expect(readText(await store.loadDocument(docId))).toBe('no checkpoint')
    expect(textAt(await loadStateAt(sql, docId, 2))).toBe('no')
  })
})

describe('history retention on PostgreSQL with other processes', () => {
  let database: TestDatabase & { readonly url: string }
  let store: SqlDocumentStore
  let sql: SqlClient

  beforeAll(async () => {
    database = await openPrivatePostgres()
    const { logger } = createTestLogger()
    store = await createSqlDocumentStore({
      client: await database.connect(),
      logger,
      compactAfterUpdates: 25,
      maxBatchUpdates: 8,
    })
    sql = store.sql
  })

  afterAll(async () => {
    await store.close()
    await database.cleanup()
  })

  it('does nothing while another process holds the retention lock', async () => {
    const docId = randomDocId()
    await store.appendUpdate(makeRecord(docId, typeText('x')[0] as Uint8Array))
    await store.compactDocument(docId)
    const other = new pg.Client({ connectionString: database.url })
    await other.connect()
    try {
      await other.query(`SELECT pg_advisory_lock(${RETENTION_LOCK_KEY})`)
      const summary = await pruneHistory(sql, POLICY, { now: new Date(Date.now() + 60 * DAY_MS) })
      expect(summary).toMatchObject({ isBusy: true, documents: 0 })
      expect(await readHistoryPrunedSeq(sql, docId)).toBe(0)
    } finally {
      await other.end()
    }
  })

  it('loses nothing while a writer appends and the compactor runs during pruning', async () => {
    const docId = randomDocId()
    const text = 'concurrent pruning keeps every keystroke '.repeat(8)
    const updates = typeText(text)
    // Every checkpoint counts as old: each pass prunes up to the latest one.
    const future = new Date(Date.now() + 60 * DAY_MS)
    let isWriting = true
    const writing = (async () => {
      for (let start = 0; start < updates.length; start += 4) {
        await Promise.all(
          updates
            .slice(start, start + 4)
            .map((update) => store.appendUpdate(makeRecord(docId, update))),
        )
      }
      isWriting = false
    })()
    let passes = 0
    let prunedSomething = false
    while (isWriting) {
      // Two "nodes" at once: the lock lets one work, the other finds it busy.
      const [first, second] = await Promise.all([
        pruneHistory(sql, POLICY, { now: future }),
        pruneHistory(sql, POLICY, { now: future }),
      ])
      prunedSomething ||= (first?.deletedUpdates ?? 0) + (second?.deletedUpdates ?? 0) > 0
      passes++
    }
    await writing
    await store.flush()
    await pruneHistory(sql, POLICY, { now: future })

    expect(passes).toBeGreaterThan(1)
    expect(prunedSomething).toBe(true)
    expect(readText(await store.loadDocument(docId))).toBe(text)
    const [head] = await sql.query<{ lastSeq: number; prunedSeq: number }>(
      `SELECT last_seq AS "lastSeq", history_pruned_seq AS "prunedSeq" FROM documents WHERE id = $1`,
      [docId],
    )
    expect(head?.lastSeq).toBe(updates.length)
    const latest = await loadStateAt(sql, docId, updates.length)
    expect(textAt(latest)).toBe(text)
    // Nothing above the mark was deleted.
    const [kept] = await sql.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM updates WHERE doc_id = $1 AND seq > $2',
      [docId, head?.prunedSeq ?? 0],
    )
    expect(kept?.count).toBe(updates.length - (head?.prunedSeq ?? 0))
  })

  it('finishes on the next pass a deletion that stopped after the mark was recorded', async () => {
    const docId = randomDocId()
    const updates = typeText('resumed!')
    for (const update of updates.slice(0, 5)) await store.appendUpdate(makeRecord(docId, update))
    await store.compactDocument(docId)
    for (const update of updates.slice(5)) await store.appendUpdate(makeRecord(docId, update))
    // As if a pruner died right after its first transaction: the mark is
    // recorded at the checkpoint (5, made just now, so inside the window
    // this time) but no update is deleted yet.
    await sql.query('UPDATE documents SET history_pruned_seq = 5 WHERE id = $1', [docId])

    await pruneHistory(sql, POLICY)

    const seqs = await sql.query<{ seq: number }>(
      'SELECT seq FROM updates WHERE doc_id = $1 ORDER BY seq',
      [docId],
    )
    expect(seqs.map((row) => row.seq)).toEqual([6, 7, 8])
    expect(readText(await store.loadDocument(docId))).toBe('resumed!')
  })

  it('prunes on its timer and reports each document it pruned', async () => {
    const docId = randomDocId()
    for (const update of typeText('timer')) await store.appendUpdate(makeRecord(docId, update))
    await store.compactDocument(docId)
    const pruned: string[] = []
    const { logger, lines } = createTestLogger()
    const pruner = startHistoryPruner({
      databases: [sql],
      policy: POLICY,
      intervalMs: 20,
      logger,
      now: () => new Date(Date.now() + 60 * DAY_MS),
      onPruned: (result) => pruned.push(result.docId),
    })
    try {
      await waitUntil(async () => (await readHistoryPrunedSeq(sql, docId)) === 5)
      await waitUntil(async () => pruned.includes(docId))
    } finally {
      await pruner.close()
    }
    expect(readText(await store.loadDocument(docId))).toBe('timer')
    expect(lines().some((line) => line.msg === 'history pruned')).toBe(true)
  })
})
