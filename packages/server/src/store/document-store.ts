/**
 * The storage contract the rest of the server depends on. `room/` and
 * `bus/` see only these types; the concrete PostgreSQL and PGlite
 * implementations live beside this file and are wired in `main.ts`.
 */

/** One accepted update on its way to the update log. */
export interface UpdateRecord {
  readonly docId: string
  /** The Yjs update (V1 encoding) as the server applied it, never the client's raw bytes. */
  readonly update: Uint8Array
  /** Authenticated user, or null while accounts do not exist / for server-made edits. */
  readonly userId: string | null
  /** Connection that sent it (unique per node and process start), or null for server-made edits. */
  readonly connId: string | null
  /**
   * Sign-in session (refresh-token family) the connection was opened with,
   * for the audit listing; null with `--auth none` and for server-made
   * edits. Optional so records written before it existed still decode.
   */
  readonly sessionId?: string | null
  /** Server receive time, epoch milliseconds. */
  readonly receivedAtMs: number
  /**
   * Idempotency key unique per document (the bus entry id: a Redis stream id,
   * or `<nodeId>:<counter>` in embedded mode). A batch retried after an
   * unknown outcome writes nothing twice.
   */
  readonly busId: string
}

/** What an append reports once the batch holding the record has committed. */
export interface AppendedUpdate {
  readonly docId: string
  /** Per-document sequence number, gap-free, starting at 1; 0 for a dead letter. */
  readonly seq: number
  /**
   * The database refused this record alone, repeatedly: it is kept in the
   * dead-letter table instead of the log (see store/dead-letters.ts).
   */
  readonly deadLettered?: boolean
}

/** The stored state of one document, ready to apply into a fresh `Y.Doc`. */
export interface StoredDocument {
  /** Full Yjs state (V1) of the latest checkpoint, or null when none exists. */
  readonly checkpoint: Uint8Array | null
  /** Sequence number the checkpoint includes (0 when there is none). */
  readonly checkpointSeq: number
  /** Updates after the checkpoint, in sequence order. */
  readonly updates: readonly Uint8Array[]
  /** Highest committed sequence number (0 for a document never written). */
  readonly lastSeq: number
}

/** Durable storage of update logs and checkpoints. */
export interface DocumentStore {
  /**
   * Reads a document's latest checkpoint and the updates after it. Rejects on
   * any storage failure; never resolves to an empty document because of one.
   */
  loadDocument(docId: string): Promise<StoredDocument>
  /**
   * Queues one record for the next group commit. Resolves when the
   * transaction that holds it has committed; records of one document commit
   * in the order they were appended.
   */
  appendUpdate(record: UpdateRecord): Promise<AppendedUpdate>
  /** Resolves when the database answers a trivial query; rejects otherwise. For /readyz. */
  checkHealth(): Promise<void>
  /** Resolves once everything appended so far has committed (or failed for good). */
  flush(): Promise<void>
  /** Flushes, stops background work (compaction timers) and closes connections. */
  close(): Promise<void>
}
