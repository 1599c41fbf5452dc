/**
 * Group commit timing and retry behaviour of the update writer, on both
 * engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from './migrations.js'
import {
  createTestLogger,
  makeRecord,
  randomDocId,
  TEST_ENGINES,
  type TestDatabase,
  typeText,
  wrapClient,
} from './store-test-support.js'
import { listDeadLetters, retryDeadLetters } from './dead-letters.js'
import { createUpdateWriter, type UpdateWriterOptions } from './update-writer.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(TEST_ENGINES)('UpdateWriter on $name', (engine) => {
  let database: TestDatabase

  beforeAll(async () => {
    database = await engine.open()
  })

  afterAll(async () => {
    await database.cleanup()
  })

  /** A writer on a wrapped, migrated client; `done` closes writer and client. */
  const openWriter = async (options: Partial<UpdateWriterOptions> = {}) => {
    const inner = await database.connect()
    await migrate(inner)
    const { client, probe } = wrapClient(inner)
    const { logger, lines } = createTestLogger()
    const writer = createUpdateWriter({ client, logger, ...options })
    const done = async (): Promise<void> => {
      await writer.close()
      await client.close()
    }
    return { writer, probe, lines, done, inner }
  }

  it('keeps one batch in flight and gathers what arrives meanwhile into the next', async () => {
    const { writer, probe, done } = await openWriter()
    probe.transactionDelayMs = 100
    const docId = randomDocId()
    const updates = typeText('a'.repeat(50))

    const firstBurst = updates.slice(0, 10).map((u) => writer.appendUpdate(makeRecord(docId, u)))
    await sleep(40)
    const secondBurst = updates.slice(10).map((u) => writer.appendUpdate(makeRecord(docId, u)))
    const appended = await Promise.all([...firstBurst, ...secondBurst])

    expect(probe.transactionCount).toBe(2)
    expect(probe.maxConcurrentTransactions).toBe(1)
    expect(appended.map((item) => item.seq)).toEqual(updates.map((_, index) => index + 1))
    await done()
  })

  it('closes a batch maxBatchDelayMs after its first record', async () => {
    const { writer, probe, done } = await openWriter({ maxBatchDelayMs: 150 })
    const update = typeText('d')[0] ?? new Uint8Array()

    const appending = writer.appendUpdate(makeRecord(randomDocId(), update))
    await sleep(50)

    expect(probe.transactionCount).toBe(0)
    expect(writer.queuedCount).toBe(1)
    await expect(appending).resolves.toMatchObject({ seq: 1 })
    expect(probe.transactionCount).toBe(1)
    expect(writer.queuedCount).toBe(0)
    await done()
  })

  it('flushes at once, without waiting out the batch delay', async () => {
    const { writer, probe, done } = await openWriter({ maxBatchDelayMs: 60_000 })
    const docId = randomDocId()

    const appending = typeText('now').map((u) => writer.appendUpdate(makeRecord(docId, u)))
    await writer.flush()

    expect(probe.transactionCount).toBe(1)
    expect(writer.queuedCount).toBe(0)
    expect((await Promise.all(appending)).map((item) => item.seq)).toEqual([1, 2, 3])
    await done()
  })

  it('flushes what was appended before it, without waiting for later appends', async () => {
    const { writer, probe, done } = await openWriter()
    probe.transactionDelayMs = 50
    const docId = randomDocId()
    const [before, after] = typeText('ba')
    if (before === undefined || after === undefined) throw new Error('typeText made no updates')

    const appendedBefore = writer.appendUpdate(makeRecord(docId, before))
    const flushing = writer.flush()
    const appendedAfter = writer.appendUpdate(makeRecord(docId, after))
    await flushing

    expect(writer.queuedCount).toBe(1)
    await expect(appendedBefore).resolves.toMatchObject({ seq: 1 })
    await expect(appendedAfter).resolves.toMatchObject({ seq: 2 })
    await done()
  })

  it('retries with doubling delays capped at retryMaxDelayMs, logging each failure', async () => {
    const { writer, probe, lines, done } = await openWriter({
      retryInitialDelayMs: 20,
      retryMaxDelayMs: 40,
    })
    probe.failTransactionsBefore = 4
    const startedAt = Date.now()

    await writer.appendUpdate(makeRecord(randomDocId(), typeText('r')[0] ?? new Uint8Array()))

    // 20 + 40 + 40 + 40 ms of backoff before the fifth attempt succeeds.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(135)
    const failures = lines().filter((line) => line.msg === 'update batch failed')
    expect(failures.map((line) => [line.level, line.attempt, line.batchSize])).toEqual([
      [40, 1, 1],
      [40, 2, 1],
      [40, 3, 1],
      [40, 4, 1],
    ])
    await done()
  })

  it('dead-letters a record the database refuses alone, commits the others, and restores it on retry', async () => {
    const deadLettered: string[] = []
    const { writer, lines, done, inner } = await openWriter({
      isolateAfterAttempts: 2,
      deadLetterAfterAttempts: 2,
      retryInitialDelayMs: 5,
      retryMaxDelayMs: 10,
      onDeadLetter: (record) => deadLettered.push(record.busId),
    })
    const docId = randomDocId()
    await inner.query(`CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger AS $$
      BEGIN
        IF NEW.user_id = 'poison' THEN RAISE EXCEPTION 'poisoned record'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`)
    await inner.query(
      'CREATE TRIGGER refuse_poison BEFORE INSERT ON updates FOR EACH ROW EXECUTE FUNCTION refuse_poison()',
    )
    try {
      const updates = typeText('abc')
      const records = updates.map((update, index) => ({
        ...makeRecord(docId, update),
        userId: index === 1 ? 'poison' : 'fine',
      }))
      const appended = await Promise.all(records.map((record) => writer.appendUpdate(record)))

      expect(appended.map((a) => [a.seq, a.deadLettered === true])).toEqual([
        [1, false],
        [0, true],
        [2, false],
      ])
      expect(deadLettered).toEqual([records[1]?.busId])
      expect(lines().some((line) => line.msg === 'update dead-lettered' && line.level === 50)).toBe(
        true,
      )
      const letters = await listDeadLetters(inner)
      expect(letters.filter((letter) => letter.docId === docId)).toMatchObject([
        { attempts: 2, userId: 'poison', lastError: expect.stringContaining('poisoned record') },
      ])

      // Still refused: it stays, with one more attempt counted.
      expect(await retryDeadLetters(inner)).toMatchObject({ restored: 0 })
      await inner.query('DROP TRIGGER refuse_poison ON updates')
      expect(await retryDeadLetters(inner)).toMatchObject({ restored: 1, failed: 0 })
      expect((await listDeadLetters(inner)).filter((l) => l.docId === docId)).toEqual([])
      const rows = await inner.query<{ seq: number; userId: string }>(
        'SELECT seq::int AS seq, user_id AS "userId" FROM updates WHERE doc_id = $1 ORDER BY seq',
        [docId],
      )
      expect(rows).toEqual([
        { seq: 1, userId: 'fine' },
        { seq: 2, userId: 'fine' },
        { seq: 3, userId: 'poison' },
      ])
    } finally {
      await inner.query('DROP TRIGGER IF EXISTS refuse_poison ON updates')
      await done()
    }
  })

  it('never dead-letters for failures that are not the record’s own (a lost connection)', async () => {
    const deadLettered: string[] = []
    const { writer, probe, done } = await openWriter({
      isolateAfterAttempts: 1,
      deadLetterAfterAttempts: 1,
      retryInitialDelayMs: 5,
      retryMaxDelayMs: 10,
      onDeadLetter: (record) => deadLettered.push(record.busId),
    })
    probe.failTransactionsBefore = 6
    probe.failQueriesMatching = /SELECT 1/
    const appended = await writer.appendUpdate(
      makeRecord(randomDocId(), typeText('x')[0] as Uint8Array),
    )
    expect(appended).toMatchObject({ seq: 1 })
    expect(deadLettered).toEqual([])
    await done()
  })

  it('refuses a maxBatchUpdates below 1', async () => {
    const { logger } = createTestLogger()
    const client = await database.connect()

    expect(() => createUpdateWriter({ client, logger, maxBatchUpdates: 0 })).toThrow(RangeError)
    await client.close()
  })
})
