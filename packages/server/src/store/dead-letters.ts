/**
 * Dead letters: updates the database refused on their own, again and again,
 * while it accepted everything else. Such a record would stall the whole
 * update log behind it (batches commit in order), so the writer moves it
 * here, where it is kept durably with why it failed, counted in a metric,
 * and put back into the log by `quire dead-letters retry` once the cause is
 * fixed. Until then a document loaded from the database lacks it; a client
 * that still holds the edit sends it again on its next sync.
 */
import type { UpdateRecord } from './document-store.js'
import type { SqlClient } from './sql-client.js'
import { writeUpdateBatch } from './update-batch.js'

/**
 * SQLSTATE classes that blame the record, not the database: data
 * exceptions (22), integrity violations (23), program limits such as a row
 * too large (54), and errors raised by triggers or functions (P0). Anything
 * else (connection loss, shutdown, a missing table) is retried forever.
 */
const RECORD_FAULT_CLASSES = ['22', '23', '54', 'P0']

/** Whether `err` is a database error that a single record can cause. */
export const isRecordFault = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && RECORD_FAULT_CLASSES.some((cls) => code.startsWith(cls))
}

/** Longest error text kept with a dead letter. */
const MAX_ERROR_CHARS = 500

/** Stores `record` as a dead letter with the error that refused it. */
export const insertDeadLetter = async (
  client: SqlClient,
  record: UpdateRecord,
  attempts: number,
  err: unknown,
): Promise<void> => {
  const message = err instanceof Error ? err.message : String(err)
  await client.query(
    `INSERT INTO dead_letters (doc_id, data, user_id, conn_id, received_at, bus_id, attempts, last_error)
       VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1000), $6, $7, $8)`,
    [
      record.docId,
      record.update,
      record.userId,
      record.connId,
      record.receivedAtMs,
      record.busId,
      attempts,
      message.slice(0, MAX_ERROR_CHARS),
    ],
  )
}

/** A dead letter as `quire dead-letters list` shows it (no update bytes). */
export interface DeadLetterSummary {
  readonly id: number
  readonly docId: string
  readonly bytes: number
  readonly userId: string | null
  readonly attempts: number
  readonly lastError: string
  readonly createdAt: Date
}

/** Lists dead letters, oldest first. */
export const listDeadLetters = (client: SqlClient, limit = 1000): Promise<DeadLetterSummary[]> =>
  client.query<DeadLetterSummary>(
    `SELECT id::float8 AS id, doc_id AS "docId", octet_length(data) AS bytes, user_id AS "userId",
            attempts, last_error AS "lastError", created_at AS "createdAt"
       FROM dead_letters ORDER BY id LIMIT $1`,
    [limit],
  )

/** Outcome of `retryDeadLetters`. */
export interface RetryOutcome {
  /** Dead letters now in the update log (or found there already). */
  readonly restored: number
  /** Dead letters the database refused again; they stay, with the new error. */
  readonly failed: number
}

/**
 * Appends each dead letter to the update log and deletes it, one per
 * transaction, in the order they were received per document. A letter
 * refused again stays where it is with its attempt count raised. Safe to run
 * while nodes are writing (the log's bus-id deduplication and document
 * locks apply as for any batch) and to run twice.
 */
export const retryDeadLetters = async (client: SqlClient): Promise<RetryOutcome> => {
  const letters = await client.query<{
    id: number
    docId: string
    data: Uint8Array
    userId: string | null
    connId: string | null
    receivedAtMs: number
    busId: string
  }>(
    `SELECT id::float8 AS id, doc_id AS "docId", data, user_id AS "userId", conn_id AS "connId",
            (EXTRACT(EPOCH FROM received_at) * 1000)::float8 AS "receivedAtMs", bus_id AS "busId"
       FROM dead_letters ORDER BY doc_id, received_at, id`,
  )
  let restored = 0
  let failed = 0
  for (const letter of letters) {
    const record: UpdateRecord = {
      docId: letter.docId,
      update: letter.data,
      userId: letter.userId,
      connId: letter.connId,
      receivedAtMs: letter.receivedAtMs,
      busId: letter.busId,
    }
    try {
      await client.transaction(async (tx) => {
        await writeUpdateBatch(tx, [record])
        await tx.query('DELETE FROM dead_letters WHERE id = $1', [letter.id])
      })
      restored++
    } catch (err) {
      failed++
      const message = err instanceof Error ? err.message : String(err)
      await client.query(
        'UPDATE dead_letters SET attempts = attempts + 1, last_error = $2 WHERE id = $1',
        [letter.id, message.slice(0, MAX_ERROR_CHARS)],
      )
    }
  }
  return { restored, failed }
}
