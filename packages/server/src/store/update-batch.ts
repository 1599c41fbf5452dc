/**
 * The SQL of one group commit: given a batch of update records and an open
 * transaction, allocate each document a gap-free range of sequence numbers
 * and insert every row. The queueing, retry and promise bookkeeping around
 * it live in `update-writer.ts`.
 */
import type { UpdateRecord } from './document-store.js'
import { buildValuesList, MAX_QUERY_PARAMS, type SqlClient, type SqlParam } from './sql-client.js'

/** Where a document stands right after a batch wrote to it; the compactor decides on it. */
export interface CommittedDocument {
  readonly docId: string
  /** Highest committed sequence number after the batch. */
  readonly lastSeq: number
  /** Sequence number the latest checkpoint includes (0 when none). */
  readonly lastCheckpointSeq: number
  /** Time since the latest checkpoint (or since creation when none), database clock, ms. */
  readonly msSinceCheckpoint: number
}

/** What one committed batch did. */
export interface BatchResult {
  /** Sequence number of each record, by its index in the batch. */
  readonly seqs: readonly number[]
  /** Documents that received new rows, in id order. */
  readonly documents: readonly CommittedDocument[]
}

const UPDATE_COLUMNS = 8
const DOCUMENT_COLUMNS = 2
const toTimestamp = (param: string): string => `to_timestamp(${param}::float8 / 1000)`

/**
 * Writes `records` inside `tx` and resolves with their sequence numbers.
 * Must run inside a transaction: the counter bump and the rows commit or
 * vanish together, which is what keeps the log gap-free.
 *
 * Idempotent per (document, bus id): a record already stored, by an earlier
 * attempt whose commit outcome was unknown or by a redelivery from the bus,
 * is not written again and reports its stored seq; a bus id repeated within
 * the batch is written once and both records report that seq. Records of one
 * document get ascending seqs in batch order.
 */
export const writeUpdateBatch = async (
  tx: SqlClient,
  records: readonly UpdateRecord[],
): Promise<BatchResult> => {
  const seqs: (number | undefined)[] = new Array<number | undefined>(records.length)
  await lockDocuments(tx, records)
  const stored = await findStoredSeqs(tx, records)

  // Plan: which records are new, grouped per document in append order, and
  // which repeat a bus id seen earlier in this batch.
  const freshByDoc = new Map<string, number[]>()
  const firstIndexByKey = new Map<string, number>()
  const duplicateOf = new Map<number, number>()
  records.forEach((record, index) => {
    const key = recordKey(record.docId, record.busId)
    const storedSeq = stored.get(key)
    const firstIndex = firstIndexByKey.get(key)
    if (storedSeq !== undefined) {
      seqs[index] = storedSeq
    } else if (firstIndex !== undefined) {
      duplicateOf.set(index, firstIndex)
    } else {
      firstIndexByKey.set(key, index)
      const fresh = freshByDoc.get(record.docId) ?? []
      fresh.push(index)
      freshByDoc.set(record.docId, fresh)
    }
  })

  // Allocate ranges, then insert the rows that use them.
  const documents = await advanceCounters(tx, freshByDoc)
  for (const document of documents) {
    const fresh = freshByDoc.get(document.docId) ?? []
    const firstSeq = document.lastSeq - fresh.length + 1
    fresh.forEach((index, offset) => {
      seqs[index] = firstSeq + offset
    })
  }
  const freshIndexes = [...freshByDoc.values()].flat()
  await insertUpdates(tx, records, freshIndexes, seqs)

  for (const [index, firstIndex] of duplicateOf) seqs[index] = seqs[firstIndex]
  return { seqs: seqs.map((seq, index) => requireSeq(seq, index)), documents }
}

const recordKey = (docId: string, busId: string): string => `${docId}\u0000${busId}`

const requireSeq = (seq: number | undefined, index: number): number => {
  if (seq === undefined) throw new Error(`batch record ${index} got no sequence number`)
  return seq
}

/** Seqs of the records whose (document, bus id) is already in the log, by `recordKey`. */
/**
 * Locks the batch's existing document rows, in id order, before looking for
 * records already stored: two writers (two persisters) holding the same
 * entries then run one after the other, and the second finds the first's
 * rows instead of colliding with them on the unique (doc_id, bus_id).
 */
const lockDocuments = async (tx: SqlClient, records: readonly UpdateRecord[]): Promise<void> => {
  const docIds = [...new Set(records.map((record) => record.docId))].sort()
  await tx.query('SELECT id FROM documents WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [
    docIds,
  ])
}

const findStoredSeqs = async (
  tx: SqlClient,
  records: readonly UpdateRecord[],
): Promise<Map<string, number>> => {
  const rows = await tx.query<{ docId: string; busId: string; seq: number }>(
    `SELECT u.doc_id AS "docId", u.bus_id AS "busId", u.seq
       FROM unnest($1::text[], $2::text[]) AS k (doc_id, bus_id)
       JOIN updates u ON u.doc_id = k.doc_id AND u.bus_id = k.bus_id`,
    [records.map((record) => record.docId), records.map((record) => record.busId)],
  )
  return new Map(rows.map((row) => [recordKey(row.docId, row.busId), row.seq]))
}

/**
 * Creates missing document rows and advances each document's `last_seq` by
 * its number of new records, in one upsert per chunk. Documents are locked
 * in id order so two writers (two nodes) cannot deadlock on each other's
 * rows.
 */
const advanceCounters = async (
  tx: SqlClient,
  freshByDoc: ReadonlyMap<string, readonly number[]>,
): Promise<CommittedDocument[]> => {
  const docIds = [...freshByDoc.keys()].sort()
  const chunkSize = Math.floor(MAX_QUERY_PARAMS / DOCUMENT_COLUMNS)
  const documents: CommittedDocument[] = []
  for (let start = 0; start < docIds.length; start += chunkSize) {
    const chunk = docIds.slice(start, start + chunkSize)
    const params = chunk.flatMap((docId) => [docId, freshByDoc.get(docId)?.length ?? 0])
    const rows = await tx.query<CommittedDocument>(
      `INSERT INTO documents (id, last_seq)
         VALUES ${buildValuesList(chunk.length, DOCUMENT_COLUMNS)}
         ON CONFLICT (id) DO UPDATE
           SET last_seq = documents.last_seq + EXCLUDED.last_seq, updated_at = now()
         RETURNING id AS "docId", last_seq AS "lastSeq",
           last_checkpoint_seq AS "lastCheckpointSeq",
           (EXTRACT(EPOCH FROM now() - COALESCE(last_checkpoint_at, created_at)) * 1000)::float8
             AS "msSinceCheckpoint"`,
      params,
    )
    documents.push(...rows)
  }
  return documents.sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : 0))
}

/** Inserts the new rows with as few multi-row statements as the parameter limit allows. */
const insertUpdates = async (
  tx: SqlClient,
  records: readonly UpdateRecord[],
  indexes: readonly number[],
  seqs: readonly (number | undefined)[],
): Promise<void> => {
  const chunkSize = Math.floor(MAX_QUERY_PARAMS / UPDATE_COLUMNS)
  for (let start = 0; start < indexes.length; start += chunkSize) {
    const chunk = indexes.slice(start, start + chunkSize)
    const params: SqlParam[] = []
    for (const index of chunk) {
      const record = records[index]
      if (record === undefined) throw new Error(`batch has no record at index ${index}`)
      params.push(
        record.docId,
        requireSeq(seqs[index], index),
        record.update,
        record.userId,
        record.connId,
        record.sessionId ?? null,
        record.receivedAtMs,
        record.busId,
      )
    }
    const wrap = [undefined, undefined, undefined, undefined, undefined, undefined, toTimestamp]
    await tx.query(
      `INSERT INTO updates (doc_id, seq, data, user_id, conn_id, session_id, received_at, bus_id)
         VALUES ${buildValuesList(chunk.length, UPDATE_COLUMNS, wrap)}`,
      params,
    )
  }
}
