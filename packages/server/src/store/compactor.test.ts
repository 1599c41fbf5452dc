/**
 * Compaction triggers, bounds and failure handling, on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createSqlDocumentStore, type SqlDocumentStoreTuning } from './sql-document-store.js'
import {
  createTestLogger,
  makeRecord,
  randomDocId,
  readText,
  TEST_ENGINES,
  type TestDatabase,
  typeText,
  waitUntil,
  wrapClient,
} from './store-test-support.js'

/** The compactor's page query; no other statement of the store has this shape. */
const COMPACTION_READ = /ORDER BY seq LIMIT \$3/

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(TEST_ENGINES)('compaction on $name', (engine) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await engine.open()
  })

  afterAll(async () => {
    await database.cleanup()
  })

  const openStore = async (tuning: SqlDocumentStoreTuning = {}) => {
    const { client, probe } = wrapClient(await database.connect())
    const { logger, lines } = createTestLogger()
    const store = await createSqlDocumentStore({ client, logger, ...tuning })
    return { store, probe, lines }
  }

  it('compacts a written document whose checkpoint is older than compactIntervalMs', async () => {
    const { store } = await openStore({ compactIntervalMs: 200 })
    const docId = randomDocId()
    const [first, second] = typeText('iv')
    if (first === undefined || second === undefined) throw new Error('typeText made no updates')

    await store.appendUpdate(makeRecord(docId, first))
    await sleep(50)
    expect((await store.loadDocument(docId)).checkpointSeq).toBe(0)
    await sleep(250)
    await store.appendUpdate(makeRecord(docId, second))
    await waitUntil(async () => (await store.loadDocument(docId)).checkpointSeq === 2)

    expect(readText(await store.loadDocument(docId))).toBe('iv')
    await store.close()
  })

  it('logs a failing compaction, keeps appending, and compacts on a later trigger', async () => {
    const { store, probe, lines } = await openStore({ compactAfterUpdates: 5, maxBatchUpdates: 5 })
    const docId = randomDocId()
    const updates = typeText('failing then fine')
    probe.failQueriesMatching = COMPACTION_READ

    const appended = await Promise.all(
      updates.slice(0, 10).map((u) => store.appendUpdate(makeRecord(docId, u))),
    )
    await waitUntil(async () => lines().some((line) => line.msg === 'compaction failed'))
    probe.failQueriesMatching = null
    await Promise.all(updates.slice(10).map((u) => store.appendUpdate(makeRecord(docId, u))))
    await waitUntil(async () => (await store.loadDocument(docId)).checkpointSeq > 10)

    expect(appended.map((item) => item.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'compaction failed', docId }),
    )
    expect(readText(await store.loadDocument(docId))).toBe('failing then fine')
    await store.close()
  })

  it('runs at most maxConcurrentCompactions at once, one per document', async () => {
    const { store, probe } = await openStore({ maxConcurrentCompactions: 2 })
    const docIds = [randomDocId(), randomDocId(), randomDocId()]
    for (const docId of docIds) {
      await Promise.all(typeText('bounded').map((u) => store.appendUpdate(makeRecord(docId, u))))
    }
    probe.slowQueriesMatching = COMPACTION_READ
    probe.slowQueryDelayMs = 50

    const [firstDoc] = docIds
    const results = await Promise.all([
      ...docIds.map((docId) => store.compactDocument(docId)),
      store.compactDocument(firstDoc ?? ''),
    ])

    expect(probe.maxConcurrentSlowQueries).toBe(2)
    expect(results.map((result) => result.reason)).toEqual([
      'compacted',
      'compacted',
      'compacted',
      'up-to-date',
    ])
    await store.close()
  })

  it('compacts a long log page by page into one checkpoint', async () => {
    const { store } = await openStore({ compactAfterUpdates: 100_000 })
    const docId = randomDocId()
    const text = 'page by page '.repeat(200)

    await Promise.all(typeText(text).map((u) => store.appendUpdate(makeRecord(docId, u))))
    const result = await store.compactDocument(docId)
    const stored = await store.loadDocument(docId)

    expect(result).toEqual({ reason: 'compacted', seq: text.length, updateCount: text.length })
    expect(stored.updates).toHaveLength(0)
    expect(readText(stored)).toBe(text)
    await store.close()
  })

  it('reports a document without updates after its checkpoint as up to date', async () => {
    const { store } = await openStore()

    await expect(store.compactDocument(randomDocId())).resolves.toEqual({
      reason: 'up-to-date',
      seq: 0,
    })
    await store.close()
  })

  it('stores the rendering of each checkpoint beside its state', async () => {
    const { store } = await openStore({
      renderCheckpointHtml: async (state) => {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, state)
        return `<p>${doc.getText('text').toString()}</p>`
      },
    })
    const docId = randomDocId()
    await Promise.all(typeText('rendered').map((u) => store.appendUpdate(makeRecord(docId, u))))
    await store.compactDocument(docId)

    const rows = await store.sql.query<{ html: string | null }>(
      'SELECT html FROM checkpoints WHERE doc_id = $1',
      [docId],
    )
    expect(rows).toEqual([{ html: '<p>rendered</p>' }])
    await store.close()
  })

  it('stores a checkpoint without html, and logs, when its rendering throws', async () => {
    const { store, lines } = await openStore({
      renderCheckpointHtml: () => Promise.reject(new Error('renderer broke')),
    })
    const docId = randomDocId()
    await Promise.all(typeText('kept').map((u) => store.appendUpdate(makeRecord(docId, u))))

    await expect(store.compactDocument(docId)).resolves.toMatchObject({ reason: 'compacted' })
    const rows = await store.sql.query<{ html: string | null }>(
      'SELECT html FROM checkpoints WHERE doc_id = $1',
      [docId],
    )
    expect(rows).toEqual([{ html: null }])
    expect(readText(await store.loadDocument(docId))).toBe('kept')
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: 40, msg: 'checkpoint rendering failed', docId }),
    )
    await store.close()
  })
})
