/**
 * A document's history as the update log and its checkpoints hold it:
 * the versions (checkpoints, taken by compaction during activity or named
 * by a person), who edited between them, and the state at any stored
 * update, rebuilt from the nearest checkpoint at or before it plus the log.
 */
import type { Logger } from 'pino'
import * as Y from 'yjs'
import { type CheckpointRenderer, renderCheckpointHtml } from './checkpoint-html.js'
import type { SqlClient } from './sql-client.js'

/** A person who edited between two versions. */
export interface VersionEditor {
  readonly id: string
  /** Null when the account is gone. */
  readonly name: string | null
}

/** One version of a document. */
export interface VersionSummary {
  /** The update the version includes, in the document's log order. */
  readonly seq: number
  readonly createdAt: Date
  /** Set for versions a person saved by name; null for automatic checkpoints. */
  readonly name: string | null
  /** Who saved it (named versions). */
  readonly createdBy: string | null
  /** Who edited since the previous version (from the log, while it is kept). */
  readonly editors: readonly VersionEditor[]
}

/** Most versions listed at once, newest first. */
const MAX_VERSIONS = 200

/**
 * The versions of `docId`, newest first, and the seq of its latest stored
 * update (the current state), with who edited since the newest version.
 */
export const listVersions = async (
  client: SqlClient,
  docId: string,
): Promise<{ lastSeq: number; current: readonly VersionEditor[]; versions: VersionSummary[] }> => {
  const lastSeq = (await readLastSeq(client, docId)) ?? 0
  const versions = await client.query<VersionSummary>(
    `WITH v AS (
       SELECT id, seq, created_at, name, created_by,
              lag(seq, 1, 0::bigint) OVER (ORDER BY seq, id) AS previous
         FROM checkpoints WHERE doc_id = $1
     )
     SELECT v.seq::float8 AS seq, v.created_at AS "createdAt", v.name, v.created_by AS "createdBy",
            ${editorsBetween('v.previous', 'v.seq')} AS editors
       FROM v ORDER BY v.seq DESC, v.id DESC LIMIT ${MAX_VERSIONS}`,
    [docId],
  )
  const newest = versions[0]?.seq ?? 0
  const [current] = await client.query<{ editors: VersionEditor[] }>(
    `SELECT ${editorsBetween('$2::bigint', '$3::bigint')} AS editors`,
    [docId, newest, lastSeq],
  )
  return { lastSeq, current: current?.editors ?? [], versions }
}

/** The distinct authors of `$1`'s updates in (from, to], as a JSON array. */
const editorsBetween = (from: string, to: string): string =>
  `COALESCE((
     SELECT json_agg(json_build_object('id', e.user_id, 'name', e.name) ORDER BY e.name)
       FROM (SELECT DISTINCT u.user_id, us.name
               FROM updates u LEFT JOIN users us ON us.id = u.user_id
              WHERE u.doc_id = $1 AND u.seq > ${from} AND u.seq <= ${to}
                AND u.user_id IS NOT NULL) e
   ), '[]'::json)`

/**
 * The state of `docId` right after its update `seq`, as one Yjs update;
 * null when the log does not reach that far or no longer holds the updates
 * between the nearest checkpoint and `seq` (thinned by retention).
 */
export const loadStateAt = async (
  client: SqlClient,
  docId: string,
  seq: number,
): Promise<Uint8Array | null> => {
  const parts = await loadStateParts(client, docId, seq)
  return parts === null ? null : (await mergeStateParts(parts, { gc: false })).state
}

/**
 * What the state of `docId` right after update `seq` is built from, in
 * order: the nearest checkpoint at or before it (if any), then every update
 * after the checkpoint up to `seq`; null as for `loadStateAt`. No Yjs work
 * is done: a caller that must not spend the node's thread on a large
 * document merges them elsewhere (a worker) with `mergeStateParts`.
 */
export const loadStateParts = async (
  client: SqlClient,
  docId: string,
  seq: number,
): Promise<Uint8Array[] | null> => {
  const lastSeq = await readLastSeq(client, docId)
  if (lastSeq === null || seq < 0 || seq > lastSeq) return null
  const [base] = await client.query<{ seq: number; state: Uint8Array }>(
    `SELECT seq::float8 AS seq, state FROM checkpoints
      WHERE doc_id = $1 AND seq <= $2 ORDER BY seq DESC, id DESC LIMIT 1`,
    [docId, seq],
  )
  const baseSeq = base?.seq ?? 0
  const rows = await client.query<{ data: Uint8Array }>(
    'SELECT data FROM updates WHERE doc_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq',
    [docId, baseSeq, seq],
  )
  if (rows.length !== seq - baseSeq) return null
  return [...(base === undefined ? [] : [base.state]), ...rows.map((row) => row.data)]
}

/** A state merged from its parts, with its state vector. */
export interface MergedState {
  readonly state: Uint8Array
  readonly stateVector: Uint8Array
}

/**
 * Merges parts of a state (Yjs updates, applied in order) into one update;
 * `gc: false` keeps deleted content (for the history views). Costs time in
 * proportion to the document: `main.ts` hands the store one that runs in a
 * worker thread.
 */
export type StateMerger = (
  parts: readonly Uint8Array[],
  options: { readonly gc: boolean },
) => Promise<MergedState>

/** `StateMerger` on the calling thread. */
export const mergeStateParts: StateMerger = async (parts, { gc }) => {
  const doc = new Y.Doc({ gc })
  try {
    doc.transact(() => {
      for (const part of parts) Y.applyUpdate(doc, part)
    })
    return { state: Y.encodeStateAsUpdate(doc), stateVector: Y.encodeStateVector(doc) }
  } finally {
    doc.destroy()
  }
}

/** Options of `saveNamedVersion`. */
export interface SaveVersionOptions {
  /** Renders the version as HTML, stored beside its state; a failure stores null. */
  readonly renderHtml?: CheckpointRenderer
  /** Receives a failed rendering's warning. */
  readonly logger?: Logger
  /** Merges the parts of the state, e.g. in a worker thread. @default mergeStateParts */
  readonly mergeState?: StateMerger
}

/**
 * Saves the stored state of `docId` as a named version and resolves with
 * its seq. What was acknowledged as saved is in it; edits still on their
 * way to the database are not.
 */
export const saveNamedVersion = async (
  client: SqlClient,
  docId: string,
  name: string,
  userId: string,
  options: SaveVersionOptions = {},
): Promise<number | null> => {
  const lastSeq = await readLastSeq(client, docId)
  if (lastSeq === null) return null
  const parts = await loadStateParts(client, docId, lastSeq)
  if (parts === null) return null
  const { state, stateVector } = await (options.mergeState ?? mergeStateParts)(parts, {
    gc: false,
  })
  const html = await renderCheckpointHtml(options.renderHtml, state, options.logger, docId)
  await client.query(
    `INSERT INTO checkpoints (doc_id, seq, state, state_vector, name, created_by, html)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [docId, lastSeq, state, stateVector, name, userId, html],
  )
  return lastSeq
}

/**
 * The seq of the latest stored update of `docId` (0 when it has none): the
 * document's version, which its exports carry as their ETag. Null for a
 * document without a row (never written, never created).
 */
export const readLastSeq = async (client: SqlClient, docId: string): Promise<number | null> => {
  const [head] = await client.query<{ lastSeq: number }>(
    'SELECT last_seq::float8 AS "lastSeq" FROM documents WHERE id = $1',
    [docId],
  )
  return head?.lastSeq ?? null
}

/** One connection's edits to a document, for the audit listing. */
export interface AuditEntry {
  readonly userId: string | null
  readonly name: string | null
  /** The sign-in session (refresh-token family) the edits came from; null without accounts. */
  readonly sessionId: string | null
  /** The connection (one socket of that session) the edits came through. */
  readonly connId: string | null
  readonly firstAt: Date
  readonly lastAt: Date
  readonly updates: number
  readonly fromSeq: number
  readonly toSeq: number
}

/**
 * Who changed `docId`, when, and from which sign-in session and connection:
 * the update log grouped by connection, most recent first. Edits made by the
 * server itself (restores carry the person's id; seeding and migration carry
 * none) have a null session and connection.
 */
export const listAudit = (client: SqlClient, docId: string, limit = 200): Promise<AuditEntry[]> =>
  client.query<AuditEntry>(
    `SELECT u.user_id AS "userId", us.name, u.session_id AS "sessionId", u.conn_id AS "connId",
            min(u.received_at) AS "firstAt", max(u.received_at) AS "lastAt",
            count(*)::int AS updates, min(u.seq)::float8 AS "fromSeq", max(u.seq)::float8 AS "toSeq"
       FROM updates u LEFT JOIN users us ON us.id = u.user_id
      WHERE u.doc_id = $1
      GROUP BY u.user_id, us.name, u.session_id, u.conn_id
      ORDER BY max(u.seq) DESC
      LIMIT $2`,
    [docId, limit],
  )

/** One stored update with what the server recorded about it. */
export interface LoggedUpdate {
  readonly seq: number
  readonly data: Uint8Array
  /** Null for edits the server made without a person (seeding, migration). */
  readonly userId: string | null
  readonly receivedAt: Date
}

/**
 * A stretch of a document's history to replay: a base state (a checkpoint,
 * or nothing for the empty document) and every logged update after it up to
 * the version asked for, with the names of their authors.
 */
export interface HistoryWindow {
  /** The seq the base state includes; 0 with a null base for the empty document. */
  readonly baseSeq: number
  readonly base: Uint8Array | null
  /** Updates `baseSeq + 1 ..` the version, in order, none missing. */
  readonly updates: readonly LoggedUpdate[]
  /** Display names of the authors of `updates` (null when the account is gone). */
  readonly names: ReadonlyMap<string, string | null>
}

/** What `loadHistoryWindow` found. */
export type HistoryWindowResult =
  | { readonly reason: 'loaded'; readonly window: HistoryWindow }
  /** The log does not reach `seq`, or no longer holds what the range needs. */
  | { readonly reason: 'unknown-version' }
  /** Replaying from the nearest usable checkpoint would read more than `maxUpdates`. */
  | { readonly reason: 'too-long'; readonly maxUpdates: number }

/**
 * Loads what replaying `docId` up to `seq` needs, starting no later than
 * `since` (so both states are in the replay) and, within `maxUpdates` rows,
 * as early as a checkpoint (or the empty document) allows, so that more of
 * the text can be attributed. Reads at most `maxUpdates` log rows.
 */
export const loadHistoryWindow = async (
  client: SqlClient,
  docId: string,
  range: { readonly seq: number; readonly since: number | null; readonly maxUpdates: number },
): Promise<HistoryWindowResult> => {
  const { seq, maxUpdates } = range
  const latestBase = range.since ?? seq
  const lastSeq = await readLastSeq(client, docId)
  if (lastSeq === null || seq < 0 || seq > lastSeq || latestBase > seq) {
    return { reason: 'unknown-version' }
  }

  // Candidate bases, earliest first: the empty document when the whole log
  // fits, then the checkpoints inside the budget, then the latest one before
  // `since` even if the range is too long (to say so).
  const earliest = Math.max(0, seq - maxUpdates)
  const checkpoints = await client.query<{ seq: number; state: Uint8Array }>(
    `(SELECT seq::float8 AS seq, state FROM checkpoints
        WHERE doc_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq, id LIMIT 1)
     UNION ALL
     (SELECT seq::float8 AS seq, state FROM checkpoints
        WHERE doc_id = $1 AND seq <= $3 ORDER BY seq DESC, id DESC LIMIT 1)`,
    [docId, earliest, latestBase],
  )
  const bases: { seq: number; state: Uint8Array | null }[] = [
    ...(earliest === 0 ? [{ seq: 0, state: null }] : []),
    ...checkpoints,
  ]
  // No checkpoint before `since` and a log longer than the budget.
  if (bases.length === 0) return { reason: 'too-long', maxUpdates }
  for (const base of bases) {
    if (seq - base.seq > maxUpdates) return { reason: 'too-long', maxUpdates }
    const updates = await client.query<LoggedUpdate>(
      `SELECT seq::float8 AS seq, data, user_id AS "userId", received_at AS "receivedAt"
         FROM updates WHERE doc_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq`,
      [docId, base.seq, seq],
    )
    // Retention may have thinned the log below a checkpoint: try a later base.
    if (updates.length !== seq - base.seq) continue
    const userIds = [...new Set(updates.flatMap((u) => (u.userId === null ? [] : [u.userId])))]
    const users =
      userIds.length === 0
        ? []
        : await client.query<{ id: string; name: string }>(
            'SELECT id, name FROM users WHERE id = ANY($1::text[])',
            [userIds],
          )
    const names = new Map<string, string | null>(userIds.map((id) => [id, null]))
    for (const user of users) names.set(user.id, user.name)
    return { reason: 'loaded', window: { baseSeq: base.seq, base: base.state, updates, names } }
  }
  return { reason: 'unknown-version' }
}
