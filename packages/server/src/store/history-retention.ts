/**
 * History retention: thinning a document's fine-grained history (the rows
 * of `updates`) once it is older than the retention window, down to
 * periodic checkpoints. The current state is never at risk: updates are
 * deleted only at or below a checkpoint that is kept (the newest one made
 * before the window), so the latest checkpoint and every update after it
 * stay, and loading reads exactly what it read before. Named versions are
 * always kept; unnamed checkpoints older than the window are kept one per
 * period (the newest of each).
 *
 * One database at a time: with several shards, each runs its own pass on
 * its own documents (a document's updates and checkpoints live on one
 * database). Only one process works on a database at any moment: every
 * transaction here first takes a transaction-level advisory lock and gives
 * up (`busy`) when another node holds it.
 */
import type { SqlClient } from './sql-client.js'

/** How long fine-grained history is kept, and what is kept after that. */
export interface RetentionPolicy {
  /** Days every update is kept; 0 keeps the whole log forever (no pruning). @default 30 */
  readonly retentionDays: number
  /**
   * Beyond the window, one unnamed checkpoint is kept per this many hours
   * (the newest of each period, aligned on the Unix epoch). @default 24
   */
  readonly checkpointSpacingHours: number
}

/** Defaults of `RetentionPolicy`. */
export const DEFAULT_RETENTION_POLICY: RetentionPolicy = Object.freeze({
  retentionDays: 30,
  checkpointSpacingHours: 24,
})

/**
 * Key of the advisory lock that lets one process prune a database at a
 * time: an arbitrary constant no other part of Quire uses ("quirh" in
 * ASCII; migrations use "quire").
 * @internal
 */
export const RETENTION_LOCK_KEY = 0x7175697268

/** Updates deleted per transaction, bounding how long one holds its locks. */
const DELETE_CHUNK_UPDATES = 5_000

/** What pruning one document did. */
export interface DocumentPruneResult {
  readonly docId: string
  /** Updates at or below this seq are gone; states there exist only at checkpoints. */
  readonly prunedThroughSeq: number
  readonly deletedUpdates: number
  readonly deletedCheckpoints: number
}

/** Outcome of pruning one document. */
export type DocumentPruneOutcome =
  | ({ readonly reason: 'pruned' } & DocumentPruneResult)
  /** No checkpoint older than the window: nothing may go yet. */
  | { readonly reason: 'nothing-to-prune'; readonly docId: string }
  /** Another process holds the retention lock; try again later. */
  | { readonly reason: 'busy'; readonly docId: string }

/** The instant before which history is old under `policy`, or null when it keeps everything. */
export const retentionCutoff = (policy: RetentionPolicy, now: Date): Date | null =>
  policy.retentionDays === 0 ? null : new Date(now.getTime() - policy.retentionDays * 86_400_000)

const tryLock = async (tx: SqlClient): Promise<boolean> => {
  const [row] = await tx.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK_KEY}) AS locked`,
  )
  return row?.locked === true
}

/**
 * Prunes `docId` under `policy` as of `now`. First, in one transaction:
 * thins the unnamed checkpoints older than the window to the newest per
 * period (never the newest one before the window, which becomes the
 * document's `history_pruned_seq`), and records that seq. Then deletes the
 * updates at or below it in chunks, each its own transaction. An
 * interruption between chunks leaves updates below the mark, which the
 * next pass finds (`findDocumentsToPrune`) and deletes; `isStopped` ends
 * the deletion early the same way (a node shutting down).
 *
 * Writers are never blocked: they append above `last_seq`, far above
 * anything deleted here, and the document row is locked only for the one
 * `UPDATE` that records the mark. Rejects with the driver's error.
 */
export const pruneDocumentHistory = async (
  client: SqlClient,
  docId: string,
  policy: RetentionPolicy,
  now: Date,
  isStopped: () => boolean = () => false,
): Promise<DocumentPruneOutcome> => {
  const cutoff = retentionCutoff(policy, now)
  if (cutoff === null) return { reason: 'nothing-to-prune', docId }
  const marked = await client.transaction(async (tx) => {
    if (!(await tryLock(tx))) return 'busy' as const
    return markPruned(tx, docId, cutoff, policy.checkpointSpacingHours)
  })
  if (marked === 'busy') return { reason: 'busy', docId }
  if (marked === null) return { reason: 'nothing-to-prune', docId }

  let deletedUpdates = 0
  for (;;) {
    const deleted = await client.transaction(async (tx) =>
      (await tryLock(tx)) ? deleteUpdatesThrough(tx, docId, marked.seq) : null,
    )
    if (deleted === null) return { reason: 'busy', docId }
    deletedUpdates += deleted
    if (deleted < DELETE_CHUNK_UPDATES || isStopped()) break
  }
  return {
    reason: 'pruned',
    docId,
    prunedThroughSeq: marked.seq,
    deletedUpdates,
    deletedCheckpoints: marked.deletedCheckpoints,
  }
}

/**
 * Thins the old checkpoints of `docId` and raises its pruned mark to the
 * newest checkpoint made before `cutoff`; null when there is none and no
 * earlier mark either. A checkpoint made before the cutoff holds only
 * updates stored before it, so everything at or below its seq is old.
 */
const markPruned = async (
  tx: SqlClient,
  docId: string,
  cutoff: Date,
  spacingHours: number,
): Promise<{ seq: number; deletedCheckpoints: number } | null> => {
  const [found] = await tx.query<{ seq: number | null; markedSeq: number | null }>(
    `SELECT (SELECT max(seq) FROM checkpoints WHERE doc_id = $1 AND created_at < $2) AS seq,
            (SELECT history_pruned_seq FROM documents WHERE id = $1) AS "markedSeq"`,
    [docId, cutoff],
  )
  const keptSeq = Math.max(found?.seq ?? 0, found?.markedSeq ?? 0)
  if (keptSeq === 0) return null

  // The newest unnamed checkpoint of each period before the cutoff stays,
  // and so does everything at or above the kept seq: the base of every
  // state after it, including the current one.
  const [thinned] = await tx.query<{ count: number }>(
    `WITH keep AS (
       SELECT DISTINCT ON (floor(extract(epoch FROM created_at) / $4)) id
         FROM checkpoints
        WHERE doc_id = $1 AND name IS NULL AND created_at < $2
        ORDER BY floor(extract(epoch FROM created_at) / $4), seq DESC, id DESC
     ), gone AS (
       DELETE FROM checkpoints
        WHERE doc_id = $1 AND name IS NULL AND created_at < $2 AND seq < $3
          AND id NOT IN (SELECT id FROM keep)
        RETURNING 1
     )
     SELECT count(*)::int AS count FROM gone`,
    [docId, cutoff, keptSeq, spacingHours * 3600],
  )
  await tx.query(
    `UPDATE documents SET history_pruned_seq = GREATEST(history_pruned_seq, $2) WHERE id = $1`,
    [docId, keptSeq],
  )
  return { seq: keptSeq, deletedCheckpoints: thinned?.count ?? 0 }
}

/** Deletes up to `DELETE_CHUNK_UPDATES` of the lowest updates at or below `seq`; resolves with how many. */
const deleteUpdatesThrough = async (tx: SqlClient, docId: string, seq: number): Promise<number> => {
  const [deleted] = await tx.query<{ count: number }>(
    `WITH gone AS (
       DELETE FROM updates
        WHERE doc_id = $1 AND seq IN (
          SELECT seq FROM updates WHERE doc_id = $1 AND seq <= $2 ORDER BY seq LIMIT $3
        )
        RETURNING 1
     )
     SELECT count(*)::int AS count FROM gone`,
    [docId, seq, DELETE_CHUNK_UPDATES],
  )
  return deleted?.count ?? 0
}

/**
 * Ids of documents after `afterId` (in id order, at most `limit`) with
 * something to prune: a checkpoint made before `cutoff` above their mark,
 * or updates still at or below the mark (an interrupted pass).
 */
export const findDocumentsToPrune = async (
  client: SqlClient,
  cutoff: Date,
  afterId: string,
  limit: number,
): Promise<string[]> => {
  const rows = await client.query<{ id: string }>(
    `SELECT d.id FROM documents d
      WHERE d.id > $1
        AND (EXISTS (SELECT 1 FROM checkpoints c
                      WHERE c.doc_id = d.id AND c.seq > d.history_pruned_seq AND c.created_at < $2)
          OR EXISTS (SELECT 1 FROM updates u
                      WHERE u.doc_id = d.id AND u.seq <= d.history_pruned_seq))
      ORDER BY d.id LIMIT $3`,
    [afterId, cutoff, limit],
  )
  return rows.map((row) => row.id)
}

/** Totals of one pass over a database. */
export interface PrunePassSummary {
  readonly documents: number
  readonly deletedUpdates: number
  readonly deletedCheckpoints: number
  /** True when the pass stopped because another process was pruning. */
  readonly isBusy: boolean
}

/** Options of `pruneHistory`. */
export interface PrunePassOptions {
  /** The instant the window is measured back from. @default new Date() */
  readonly now?: Date
  /** Documents looked up per query. @default 50 */
  readonly batchDocuments?: number
  /** Told of each document pruned (metrics, logs). */
  readonly onPruned?: (result: DocumentPruneResult) => void
  /** Checked before each document; true ends the pass early (shutdown). */
  readonly isStopped?: () => boolean
}

/**
 * One pass of retention over every document of one database, a batch of
 * documents at a time and one document after the other, yielding to the
 * event loop between documents. Stops early when another process holds
 * the lock (`isBusy`) or `isStopped` says so. Rejects with the driver's
 * error; what was pruned before it stays pruned.
 */
export const pruneHistory = async (
  client: SqlClient,
  policy: RetentionPolicy,
  options: PrunePassOptions = {},
): Promise<PrunePassSummary> => {
  const totals = { documents: 0, deletedUpdates: 0, deletedCheckpoints: 0, isBusy: false }
  const now = options.now ?? new Date()
  const cutoff = retentionCutoff(policy, now)
  if (cutoff === null) return totals
  const batchDocuments = options.batchDocuments ?? 50

  let afterId = ''
  for (;;) {
    const ids = await findDocumentsToPrune(client, cutoff, afterId, batchDocuments)
    for (const docId of ids) {
      if (options.isStopped?.() === true) return totals
      const outcome = await pruneDocumentHistory(client, docId, policy, now, options.isStopped)
      if (outcome.reason === 'busy') return { ...totals, isBusy: true }
      if (outcome.reason === 'pruned') {
        totals.documents++
        totals.deletedUpdates += outcome.deletedUpdates
        totals.deletedCheckpoints += outcome.deletedCheckpoints
        options.onPruned?.(outcome)
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    const last = ids.at(-1)
    if (last === undefined || ids.length < batchDocuments) return totals
    afterId = last
  }
}

/**
 * The pruned mark of `docId`: states at or below it can be rebuilt only
 * where a checkpoint sits (0 when nothing was ever pruned or no such
 * document).
 */
export const readHistoryPrunedSeq = async (client: SqlClient, docId: string): Promise<number> => {
  const [row] = await client.query<{ seq: number }>(
    'SELECT history_pruned_seq AS seq FROM documents WHERE id = $1',
    [docId],
  )
  return row?.seq ?? 0
}
