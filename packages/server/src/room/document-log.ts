/**
 * How a room reaches the rest of the system: its document's stored state,
 * the update log it appends to, and the changes and presence other nodes
 * make. Embedded mode implements it over the store alone; with Redis it is
 * backed by one stream per document (see `bus/`).
 */
import type { AwarenessEntry } from '@quire/protocol'
import type { UpdateRecord } from '../store/index.js'

/** What a room is told about its document by the log. */
export interface DocumentLogListener {
  /** Another node applied this update; apply it and pass it on to local sessions. */
  onRemoteUpdate(update: Uint8Array): void
  /** Another node's sessions changed presence. */
  onRemoteAwareness(originNodeId: string, entries: readonly AwarenessEntry[]): void
  /**
   * The log may have missed changes (Redis lost its data, or this node was
   * cut off longer than the stream keeps entries): apply these stored
   * updates, which are idempotent, to catch up.
   */
  onResync(updates: readonly Uint8Array[]): void
}

/** A document opened on the log. */
export interface OpenedDocument {
  /** Stored state: a checkpoint (if any) first, then later updates, in order. */
  readonly updates: readonly Uint8Array[]
  /** Stops delivering remote changes for this document. */
  close(): void
}

/** The update log as rooms see it. */
export interface DocumentLog {
  /**
   * Reads a document's state and starts delivering other nodes' changes
   * made after that state. Rejects on any storage failure.
   */
  open(docId: string, listener: DocumentLogListener): Promise<OpenedDocument>
  /**
   * Appends an update this node applied. Resolves once it is durable in the
   * database; rejects when that can no longer happen.
   */
  append(record: UpdateRecord): Promise<unknown>
  /** Shares this node's presence changes with other nodes (best effort). */
  publishAwareness(docId: string, entries: readonly AwarenessEntry[]): void
}
