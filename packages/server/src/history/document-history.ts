/**
 * History operations on a document: its versions, its state at any stored
 * update, named versions, and restoring an old version. A restore never
 * rewrites history: the old content is applied as a new edit through the
 * document's room, so everyone sees it live, it is logged with the person
 * who restored, and restoring the version before it undoes it.
 */
import { RICH_TEXT_FRAGMENT, TRACE_TEXT } from '@quire/schema'
import * as Y from 'yjs'
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
import { checkFragmentDepth, ContentError } from '../content/index.js'
import { describeChanges } from './attribution.js'
import type { ChangesDescriber } from './changes-describer.js'

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
  const restore = async (docId: string, seq: number, userId: string): Promise<boolean> => {
    const state = await loadState(docId, seq)
    if (state === null) return false
    // The stored state may hold edits this node's room has not received
    // yet (another node's restore, relayed a moment later): merged into the
    // edit first, so the restore deletes them too.
    const lastSeq = await readLastSeq(sql, docId)
    const stored = lastSeq === null ? null : await loadState(docId, lastSeq)
    const old = new Y.Doc()
    try {
      Y.applyUpdate(old, state)
      const change = (doc: Y.Doc): void => {
        if (stored !== null) Y.applyUpdate(doc, stored)
        replaceContent(doc, old)
      }
      await rooms.applyServerEdit(docId, change, { userId, connId: null })
      return true
    } finally {
      old.destroy()
    }
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

/**
 * Most top-level blocks one restore deletes and inserts. Yjs garbage
 * collects each deleted block's nested types when the edit is applied, on
 * the node's thread and faster than linearly: replacing 10,000 paragraphs
 * takes over a second there, in the room of every node holding the
 * document. A restore that would replace more is refused with
 * `CONTENT_TOO_COMPLEX` (422); export that version and import it instead.
 */
export const MAX_RESTORED_BLOCKS = 3_000

/**
 * Replaces the blocks of `fragment` that differ from `oldFragment`'s by
 * copies of the old ones: blocks equal at the start and at the end are
 * kept (a restore of a recent version touches only what changed since),
 * the rest is deleted and the old blocks in between inserted. Throws
 * `CONTENT_TOO_COMPLEX` before changing anything past `MAX_RESTORED_BLOCKS`.
 */
const replaceChangedBlocks = (fragment: Y.XmlFragment, oldFragment: Y.XmlFragment): void => {
  const current = fragment.toArray().map((node) => node.toString())
  const wanted = oldFragment.toArray()
  const wantedText = wanted.map((node) => node.toString())
  let start = 0
  while (start < current.length && start < wanted.length && current[start] === wantedText[start]) {
    start++
  }
  let end = 0
  while (
    end < current.length - start &&
    end < wanted.length - start &&
    current[current.length - 1 - end] === wantedText[wanted.length - 1 - end]
  ) {
    end++
  }
  const deleted = current.length - start - end
  const inserted = wanted.slice(start, wanted.length - end)
  if (deleted + inserted.length > MAX_RESTORED_BLOCKS) {
    throw new ContentError(
      'CONTENT_TOO_COMPLEX',
      `the restore would replace ${deleted + inserted.length} blocks, over ${MAX_RESTORED_BLOCKS}`,
    )
  }
  if (deleted > 0) fragment.delete(start, deleted)
  const copies = inserted.map((node) => node.clone())
  if (copies.length > 0) fragment.insert(start, copies as (Y.XmlElement | Y.XmlText)[])
}

/**
 * Makes `doc`'s content equal to `old`'s: the rich text's changed blocks
 * are replaced by copies of the old nodes, the trace text by the old text. Copies are new
 * items, so concurrent edits made meanwhile merge as with any other edit.
 */
const replaceContent = (doc: Y.Doc, old: Y.Doc): void => {
  const fragment = doc.getXmlFragment(RICH_TEXT_FRAGMENT)
  const oldFragment = old.getXmlFragment(RICH_TEXT_FRAGMENT)
  // Yjs deletes, garbage-collects and clones nested types recursively: rich
  // text nested thousands deep (a hostile client's) would overflow the stack
  // halfway through the edit. Refused before anything changes
  // (CONTENT_TOO_DEEP, answered 422).
  checkFragmentDepth(fragment)
  checkFragmentDepth(oldFragment)
  replaceChangedBlocks(fragment, oldFragment)

  const text = doc.getText(TRACE_TEXT)
  const oldText = old.getText(TRACE_TEXT)
  if (text.length > 0) text.delete(0, text.length)
  if (oldText.length > 0) text.applyDelta(oldText.toDelta())
}
