/**
 * The DocumentStore contract suite, run on every engine: embedded PGlite in
 * a temporary folder and the test run's PostgreSQL database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppendedUpdate, DocumentStore } from './document-store.js'
import { createSqlDocumentStore, type SqlDocumentStoreTuning } from './sql-document-store.js'
import { StoreError } from './store-error.js'
import {
  type ClientProbe,
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

describe.each(TEST_ENGINES)('SqlDocumentStore on $name', (engine) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await engine.open()
  })

  afterAll(async () => {
    await database.cleanup()
  })

  /** Opens a store on a wrapped client; the probe counts and injects failures. */
  const openStore = async (tuning: SqlDocumentStoreTuning = {}) => {
    const { client, probe } = wrapClient(await database.connect())
    const { logger, lines } = createTestLogger()
    const store = await createSqlDocumentStore({ client, logger, ...tuning })
    probe.transactionCount = 0
    return { store, probe, lines }
  }

  const appendAll = (
    store: DocumentStore,
    docId: string,
    updates: readonly Uint8Array[],
  ): Promise<AppendedUpdate[]> =>
    Promise.all(updates.map((update) => store.appendUpdate(makeRecord(docId, update))))

  it('commits 200 concurrent appends in far fewer than 200 transactions', async () => {
    const { store, probe } = await openStore()
    const docIds = [randomDocId(), randomDocId(), randomDocId()]
    const updates = typeText('x'.repeat(200))

    const appended = await Promise.all(
      updates.map((update, index) =>
        store.appendUpdate(makeRecord(docIds[index % docIds.length] ?? '', update)),
      ),
    )

    expect(appended).toHaveLength(200)
    expect(probe.transactionCount).toBeLessThanOrEqual(5)
    await store.close()
  })

  it('assigns gap-free seqs from 1 per document, in append order', async () => {
    const { store } = await openStore({ maxBatchUpdates: 16 })
    const docA = randomDocId()
    const docB = randomDocId()
    const updatesA = typeText('alpha '.repeat(10))
    const updatesB = typeText('beta '.repeat(10))

    const pending: Promise<AppendedUpdate>[] = []
    for (let index = 0; index < updatesA.length; index++) {
      pending.push(store.appendUpdate(makeRecord(docA, updatesA[index] ?? new Uint8Array())))
      const updateB = updatesB[index]
      if (updateB !== undefined) pending.push(store.appendUpdate(makeRecord(docB, updateB)))
    }
    const appended = await Promise.all(pending)

    const seqsOf = (docId: string): number[] =>
      appended.filter((item) => item.docId === docId).map((item) => item.seq)
    expect(seqsOf(docA)).toEqual(updatesA.map((_, index) => index + 1))
    expect(seqsOf(docB)).toEqual(updatesB.map((_, index) => index + 1))
    const storedA = await store.loadDocument(docA)
    expect(storedA.lastSeq).toBe(updatesA.length)
    expect(storedA.updates).toEqual(updatesA)
    expect(readText(storedA)).toBe('alpha '.repeat(10))
    await store.close()
  })

  it('splits a long queue into batches of maxBatchUpdates', async () => {
    const { store, probe } = await openStore({ maxBatchUpdates: 10 })
    const docId = randomDocId()

    const appended = await appendAll(store, docId, typeText('y'.repeat(35)))

    expect(probe.transactionCount).toBe(4)
    expect(appended.map((item) => item.seq)).toEqual([...Array(35).keys()].map((n) => n + 1))
    await store.close()
  })

  it('loads a document never written as empty', async () => {
    const { store } = await openStore()

    const stored = await store.loadDocument(randomDocId())

    expect(stored).toEqual({ checkpoint: null, checkpointSeq: 0, updates: [], lastSeq: 0 })
    await store.close()
  })

  it('loads the latest checkpoint plus only the updates after it', async () => {
    const { store } = await openStore()
    const docId = randomDocId()
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(6)
    const updates = typeText(text)
    const head = updates.slice(0, 200)
    const tail = updates.slice(200)

    await appendAll(store, docId, head)
    const compaction = await store.compactDocument(docId)
    await appendAll(store, docId, tail)
    const stored = await store.loadDocument(docId)

    expect(compaction).toEqual({ reason: 'compacted', seq: 200, updateCount: 200 })
    expect(stored.checkpointSeq).toBe(200)
    expect(stored.checkpoint).toBeInstanceOf(Uint8Array)
    expect(stored.updates).toEqual(tail)
    expect(stored.lastSeq).toBe(updates.length)
    expect(readText(stored)).toBe(text)
    expect(await store.compactDocument(docId)).toMatchObject({ reason: 'compacted' })
    expect(await store.compactDocument(docId)).toEqual({
      reason: 'up-to-date',
      seq: updates.length,
    })
    await store.close()
  })

  it('compacts a document once compactAfterUpdates updates follow its checkpoint', async () => {
    const { store, lines } = await openStore({ compactAfterUpdates: 50, maxBatchUpdates: 20 })
    const docId = randomDocId()
    const text = 'compaction by count '.repeat(4)

    await appendAll(store, docId, typeText(text))
    await waitUntil(async () => (await store.loadDocument(docId)).checkpointSeq > 0)
    const stored = await store.loadDocument(docId)

    expect(stored.checkpointSeq).toBeGreaterThanOrEqual(50)
    expect(stored.updates).toHaveLength(stored.lastSeq - stored.checkpointSeq)
    expect(readText(stored)).toBe(text)
    expect(lines()).toContainEqual(
      expect.objectContaining({ level: 20, msg: 'document compacted', docId }),
    )
    await store.close()
  })

  it('keeps everything committed across close and reopen', async () => {
    const docId = randomDocId()
    const updates = typeText('durable text')
    const first = await openStore()
    await appendAll(first.store, docId, updates.slice(0, 8))
    await first.store.compactDocument(docId)
    await appendAll(first.store, docId, updates.slice(8))
    await first.store.close()

    const second = await openStore()
    const stored = await second.store.loadDocument(docId)
    const next = await second.store.appendUpdate(
      makeRecord(docId, typeText('!')[0] ?? new Uint8Array()),
    )

    expect(stored.lastSeq).toBe(updates.length)
    expect(stored.checkpointSeq).toBe(8)
    expect(readText(stored)).toBe('durable text')
    expect(next.seq).toBe(updates.length + 1)
    await second.store.close()
  })

  it.each([
    ['before any statement', (probe: ClientProbe) => (probe.failTransactionsBefore = 2)],
    ['after an unseen commit', (probe: ClientProbe) => (probe.failTransactionsAfterCommit = 1)],
  ])('retries a batch that failed %s and commits each record exactly once', async (_, inject) => {
    const { store, probe, lines } = await openStore({ retryInitialDelayMs: 5 })
    const docId = randomDocId()
    const updates = typeText('retry me')
    inject(probe)

    const appended = await appendAll(store, docId, updates)
    const stored = await store.loadDocument(docId)

    expect(appended.map((item) => item.seq)).toEqual(updates.map((_, index) => index + 1))
    expect(stored.lastSeq).toBe(updates.length)
    expect(stored.updates).toEqual(updates)
    expect(lines()).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: 'update batch failed',
        batchSize: updates.length,
        attempt: 1,
        err: expect.objectContaining({ message: expect.stringContaining('injected') }),
      }),
    )
    await store.close()
  })

  it('writes a redelivered bus id once and reports its stored seq', async () => {
    const { store } = await openStore()
    const docId = randomDocId()
    const [first, second] = typeText('ab')
    if (first === undefined || second === undefined) throw new Error('typeText made no updates')

    const a = await store.appendUpdate(makeRecord(docId, first, 'bus-1'))
    const [again, b, sameBatch] = await Promise.all([
      store.appendUpdate(makeRecord(docId, first, 'bus-1')),
      store.appendUpdate(makeRecord(docId, second, 'bus-2')),
      store.appendUpdate(makeRecord(docId, second, 'bus-2')),
    ])
    const stored = await store.loadDocument(docId)

    expect([a.seq, again?.seq, b?.seq, sameBatch?.seq]).toEqual([1, 1, 2, 2])
    expect(stored.updates).toEqual([first, second])
    await store.close()
  })

  it('rejects a load whose query fails instead of loading an empty document', async () => {
    const { store, probe } = await openStore()
    const docId = randomDocId()
    await appendAll(store, docId, typeText('kept'))
    probe.failQueriesMatching = /FROM updates/

    const loading = store.loadDocument(docId)

    await expect(loading).rejects.toBeInstanceOf(StoreError)
    await expect(loading).rejects.toMatchObject({ code: 'STORE_LOAD_FAILED' })
    await store.close()
  })

  it('reports health while open and refuses calls after close', async () => {
    const { store } = await openStore()

    await expect(store.checkHealth()).resolves.toBeUndefined()
    await store.close()

    await expect(store.checkHealth()).rejects.toMatchObject({ code: 'STORE_CLOSED' })
    await expect(store.loadDocument(randomDocId())).rejects.toMatchObject({ code: 'STORE_CLOSED' })
    await expect(
      store.appendUpdate(makeRecord(randomDocId(), new Uint8Array([0, 0]))),
    ).rejects.toMatchObject({ code: 'STORE_CLOSED' })
  })

  it('flushes queued appends on close', async () => {
    const { store } = await openStore({ maxBatchDelayMs: 1_000 })
    const docId = randomDocId()
    const updates = typeText('late')

    const appending = appendAll(store, docId, updates)
    expect(store.queuedCount).toBe(updates.length)
    await store.close()

    expect((await appending).map((item) => item.seq)).toEqual([1, 2, 3, 4])
    const reopened = await openStore()
    expect((await reopened.store.loadDocument(docId)).lastSeq).toBe(4)
    await reopened.store.close()
  })

  it('opens through its public factory', async () => {
    const { logger } = createTestLogger()
    const store = await database.openWithFactory(logger)
    const docId = randomDocId()

    await store.appendUpdate(makeRecord(docId, typeText('f')[0] ?? new Uint8Array()))

    expect((await store.loadDocument(docId)).lastSeq).toBe(1)
    await store.close()
  })
})
