/**
 * History operations on a document: its versions, its state at any stored
 * update, named versions, and restoring an old version. A restore never
 * rewrites history: the old content is applied as a new edit through the
 * document's room, so everyone sees it live, it is logged with the person
 * who restored, and restoring the version before it undoes it.
 */
import type { Logger } from '../log/index.js'
import type { RoomManager } from '../room/index.js'
import {
  type AuditEntry,
  type CheckpointRenderer,
  type HistoryWindow,
  createProcessDocumentLock,
  type DocumentLock,
  listAudit,
  loadHistoryWindow,
  listVersions,
  loadStateParts,
  mergeStateParts,
  readHistoryPrunedSeq,
  readLastSeq,
  saveNamedVersion,
  type SqlClient,
  type StateMerger,
  type VersionEditor,
  type VersionSummary,
} from '../store/index.js'
import { describeChanges } from './attribution.js'
import type { ChangesDescriber, RestoreComputer } from './changes-describer.js'
import { computeRestoreUpdate } from './restore-content.js'

/**
 * Most logged updates one changes request replays. Both versions must lie
 * within this many updates of a checkpoint at or before the earlier one;
 * text older than the replayed stretch is shown without an author.
 * Replaying 20,000 one-character updates takes about a quarter of a second.
 */
export const MAX_ATTRIBUTION_UPDATES = 20_000

/** What `DocumentHistory.changes` found. */
export type ChangesResult =
  /** `json`: the `DocumentChanges`, serialised where it was built. */
  | { readonly reason: 'described'; readonly json: string }
  | { readonly reason: 'unknown-version' }
  | { readonly reason: 'too-long'; readonly maxUpdates: number }

export interface DocumentHistory {
  list(
    docId: string,
  ): Promise<{ lastSeq: number; current: readonly VersionEditor[]; versions: VersionSummary[] }>
  /** The state right after update `seq` as one Yjs update, or null when it cannot be rebuilt. */
  stateAt(docId: string, seq: number): Promise<Uint8Array | null>
  saveVersion(docId: string, name: string, userId: string): Promise<number | null>
  /** Applies the content of version `seq` as a new edit by `userId`; false when it cannot be rebuilt. */
  restore(docId: string, seq: number, userId: string): Promise<boolean>
  /** Who changed the document, when, through which connection. */
  audit(docId: string): Promise<AuditEntry[]>
  /**
   * The seq at or below which history retention removed the updates: a
   * state there exists only where a checkpoint was kept (0 when nothing
   * was removed).
   */
  prunedThrough(docId: string): Promise<number>
  /**
   * The rich text at `seq` with who wrote each run and when, and, with
   * `since` (< `seq`), what was added and deleted after `since`.
   */
  changes(docId: string, seq: number, since: number | null): Promise<ChangesResult>
}

/** Options of `createDocumentHistory`. */
export interface DocumentHistoryOptions {
  /** Renders a named version as HTML, stored beside its state. */
  readonly renderHtml?: CheckpointRenderer
  /** Receives a failed rendering's warning. */
  readonly logger?: Logger
  /**
   * Describes changes and serialises them (`describeChanges`), e.g. in a
   * worker thread (`createChangesDescriber`). @default on the calling thread
   */
  readonly describeChanges?: ChangesDescriber
  /**
   * Computes a restore's update (`computeRestoreUpdate`), e.g. in a worker
   * thread (`createChangesDescriber`). @default on the calling thread
   */
  readonly computeRestore?: RestoreComputer
  /** Merges stored parts of a state, e.g. in a worker thread. @default mergeStateParts */
  readonly mergeState?: StateMerger
  /**
   * Serialises restores of one document: across nodes with PostgreSQL
   * (`createAdvisoryDocumentLock`). @default a lock within this process
   */
  readonly lock?: DocumentLock
}

export const createDocumentHistory = (
  sql: SqlClient,
  rooms: RoomManager,
  options: DocumentHistoryOptions = {},
): DocumentHistory => {
  const restoreLock = options.lock ?? createProcessDocumentLock()
  const describe =
    options.describeChanges ??
    (async (window: HistoryWindow, seq: number, since: number | null) =>
      JSON.stringify(await describeChanges(window, seq, since)))
  const mergeState = options.mergeState ?? mergeStateParts
  const loadState = async (docId: string, seq: number): Promise<Uint8Array | null> => {
    const parts = await loadStateParts(sql, docId, seq)
    return parts === null ? null : (await mergeState(parts, { gc: false })).state
  }

  // Runs under the document's lock, until the edit is stored: a second
  // restore of the document (on any node) starts from the stored state that
  // already holds this one, instead of copying next to it.
  const computeRestore =
    options.computeRestore ??
    (async (currentParts: readonly Uint8Array[], oldParts: readonly Uint8Array[]) =>
      computeRestoreUpdate(currentParts, oldParts))
  const restore = async (docId: string, seq: number, userId: string): Promise<boolean> => {
    // Edits this node's room applied are stored first (at most 2 s), so the
    // stored state the restore starts from holds them and it deletes them.
    await settleWithin(rooms.whenEditsStored(docId), RESTORE_SETTLE_TIMEOUT_MS)
    const oldParts = await loadStateParts(sql, docId, seq)
    if (oldParts === null) return false
    // The stored state may hold edits this node's room has not received
    // yet (another node's restore, relayed a moment later): the restore is
    // computed against it, so it deletes them too.
    const lastSeq = await readLastSeq(sql, docId)
    const currentParts = lastSeq === null ? [] : ((await loadStateParts(sql, docId, lastSeq)) ?? [])
    const update = await computeRestore(currentParts, oldParts)
    await rooms.applyServerUpdate(docId, update, { userId, connId: null })
    return true
  }

  return {
    list: (docId) => listVersions(sql, docId),
    // Merged in the worker when one is given: the slider asks often.
    stateAt: loadState,
    saveVersion: (docId, name, userId) => saveNamedVersion(sql, docId, name, userId, options),
    audit: (docId) => listAudit(sql, docId),
    prunedThrough: (docId) => readHistoryPrunedSeq(sql, docId),
    changes: async (docId, seq, since) => {
      const found = await loadHistoryWindow(sql, docId, {
        seq,
        since,
        maxUpdates: MAX_ATTRIBUTION_UPDATES,
      })
      if (found.reason !== 'loaded') return found
      return { reason: 'described', json: await describe(found.window, seq, since) }
    },
    restore: (docId, seq, userId) => restoreLock(docId, () => restore(docId, seq, userId)),
  }
}

/** Longest a restore waits for this node's edits of the document to be stored, ms. */
const RESTORE_SETTLE_TIMEOUT_MS = 2_000

const settleWithin = async (promise: Promise<unknown>, timeoutMs: number): Promise<void> => {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs)
  })
  try {
    await Promise.race([promise, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
