/**
 * One loaded document on this node: its `Y.Doc`, the sessions editing it and
 * their presence. The room is the only place a document changes in memory;
 * every change it applies is broadcast once to the other sessions and
 * appended once to the update log.
 */
import {
  type AwarenessEntry,
  encodeAwarenessMessage,
  encodeAwarenessUpdate,
  encodeSyncUpdate,
} from '@quire/protocol'
import * as Y from 'yjs'
import { encodeStateInPieces } from './chunked-state.js'
import type { Logger } from '../log/index.js'
import { AwarenessRegistry } from './awareness-registry.js'
import { createDeferred, type Deferred } from './deferred.js'
import type { DocumentLog, DocumentLogListener, OpenedDocument } from './document-log.js'

/** Who an applied update is attributed to in the update log. */
export interface Attribution {
  readonly userId: string | null
  readonly connId: string | null
  /** The sign-in session of the connection, when there is one. */
  readonly sessionId?: string | null
}

/** Something that receives the room's broadcasts: an open session. */
export interface RoomMember {
  /** Sends one frame to this member's client. */
  deliver(frame: Uint8Array): void
}

/** What a room needs from the node. */
export interface RoomDependencies {
  readonly log: DocumentLog
  readonly logger: Logger
  /** Returns a fresh idempotency key for the update log, unique per document. */
  readonly nextBusId: () => string
  /** Called once when the room becomes poisoned; the owner must discard it. */
  readonly onPoisoned: (room: Room) => void
  /** Receives the time from an update's arrival to its delivery to the other members, s. */
  readonly observeFanOut?: (seconds: number) => void
}

/** Limits a room enforces. */
export interface RoomLimits {
  /** Bytes of updates parked for missing dependencies before the room drops them. */
  readonly maxPendingUpdateBytes: number
  /** Encoded size past which updates that add content are refused. */
  readonly maxDocumentBytes?: number
}

/** A state larger than this goes to fresh clients in pieces (field case F10). */
const STREAM_STATE_OVER_BYTES = 1024 * 1024
/** Size of each piece of a streamed state. */
const STATE_PIECE_BYTES = 256 * 1024
/** The state vector of a client that has nothing. */
const EMPTY_STATE_VECTOR = new Uint8Array([0])

/** Longest the load of a stored state holds the event loop at a time, ms. */
const LOAD_SLICE_MS = 8

/** Least time between two exact measurements of a document near its limit, ms. */
const REMEASURE_INTERVAL_MS = 10_000

/** Outcome of applying an update into a room. */
export type ApplyOutcome =
  | {
      readonly ok: true
      /**
       * Settles once everything the update carried is durable: its own
       * append, or (when it added nothing) every earlier append, or (when
       * it was parked) the append that integrates it. Rejects when that
       * can no longer happen.
       */
      readonly durable: Promise<unknown>
    }
  | {
      readonly ok: false
      readonly reason: 'undecodable' | 'too-much-pending' | 'poisoned'
      readonly error?: unknown
    }

const NO_ATTRIBUTION: Attribution = { userId: null, connId: null }

/** Where every room's append chain starts (a settled promise is immutable: one serves all). */
const SETTLED: Promise<unknown> = Promise.resolve()

interface PendingSnapshot {
  readonly structs: Uint8Array | null
  readonly ds: Uint8Array | null
}

const areBytesEqual = (a: Uint8Array | null, b: Uint8Array | null): boolean => {
  if (a === b) return true
  if (a === null || b === null || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Origin tag of the transaction that applies a document's stored state. */
const LOAD_ORIGIN = Symbol('load')

/** Origin tag of changes other nodes made: relayed to every local session, never appended again. */
const REMOTE_ORIGIN = Symbol('remote')

/** A loaded document and the sessions that edit it. */
export class Room implements DocumentLogListener {
  readonly doc = new Y.Doc({ gc: true })
  readonly awareness = new AwarenessRegistry()
  readonly members = new Set<RoomMember>()
  /**
   * Set when an update failed halfway: the document may hold part of it.
   * A poisoned room must be discarded, never served or stored further.
   */
  isPoisoned = false
  private lastAppend: Promise<unknown> = SETTLED
  private opened: OpenedDocument | null = null
  private isDestroyed = false
  /** Presence changes waiting for this turn's flush; null when none (most rooms, most turns). */
  private awarenessBatch: Map<number, AwarenessEntry> | null = null
  /** Changes emitted while `applyUpdate` runs; null outside it. */
  private heldChanges: Uint8Array[] | null = null
  private parkedRelease: Deferred<unknown> | null = null
  /** Created on the first log line: a pino child costs about a kilobyte per room. */
  private childLogger: Logger | null = null
  /**
   * The document's encoded size, from above: what was loaded plus every
   * change since. Measured exactly (which costs an encode of the whole
   * document) only when this estimate says the limit is near.
   */
  private estimatedBytes = 0
  private measuredAt = -Infinity
  /**
   * The sync step 2 for a client that has nothing yet, and the state vector,
   * encoded once per change of the document rather than once per joiner: a
   * reconnect storm asks for them thousands of times in a row.
   */
  private encodedState: Uint8Array | null = null
  private encodedStateVector: Uint8Array | null = null
  private encodedPieces: Uint8Array[] | null = null

  constructor(
    readonly docId: string,
    private readonly deps: RoomDependencies,
    private readonly limits: RoomLimits,
  ) {}

  private get logger(): Logger {
    return (this.childLogger ??= this.deps.logger.child({ docId: this.docId }))
  }

  /**
   * Applies the document's stored state, then starts broadcasting and
   * logging changes. Rejects (and the room must be discarded) when the
   * store cannot load it.
   */
  async load(): Promise<{ updates: number; bytes: number }> {
    if (this.isDestroyed) throw new Error('room destroyed before it loaded')
    const opened = await this.deps.log.open(this.docId, this)
    if (this.isDestroyed) {
      // The load timed out or failed meanwhile: the room is gone, so must
      // be its subscription.
      opened.close()
      throw new Error('room destroyed while it loaded')
    }
    this.opened = opened
    const bytes = await this.applyStoredUpdates(opened.updates)
    if (this.isDestroyed) throw new Error('room destroyed while it loaded')
    this.doc.on('update', this.handleDocumentUpdate)
    this.estimatedBytes = bytes
    return { updates: opened.updates.length, bytes }
  }

  /** The document's state vector (cached until the next change). */
  stateVector(): Uint8Array {
    this.encodedStateVector ??= Y.encodeStateVector(this.doc)
    return this.encodedStateVector
  }

  /**
   * What a client with `stateVector` lacks. A client that has nothing (an
   * empty vector, one zero byte) gets the cached encoding of the whole state.
   */
  stateAsUpdate(stateVector: Uint8Array): Uint8Array {
    if (stateVector.length === 1 && stateVector[0] === 0) {
      this.encodedState ??= Y.encodeStateAsUpdate(this.doc)
      return this.encodedState
    }
    return Y.encodeStateAsUpdate(this.doc, stateVector)
  }

  /**
   * The whole state in pieces of about `STATE_PIECE_BYTES`, for a fresh
   * client of a large document (see chunked-state.ts); null when the state
   * is small enough to send in one message. Cached until the next change.
   */
  stateInPieces(): Uint8Array[] | null {
    if (this.stateAsUpdate(EMPTY_STATE_VECTOR).byteLength <= STREAM_STATE_OVER_BYTES) return null
    this.encodedPieces ??= encodeStateInPieces(this.doc, STATE_PIECE_BYTES)
    return this.encodedPieces
  }

  /**
   * Applies a stored state in slices of at most `LOAD_SLICE_MS`, yielding to
   * the event loop between them, so a document with a long uncompacted
   * history does not stall every other document on the node while it
   * loads. Each slice is one transaction (Yjs cleans up once per slice, not
   * per update). Nothing is broadcast or logged meanwhile: the update
   * handler is attached after the whole state is in.
   */
  private async applyStoredUpdates(updates: readonly Uint8Array[]): Promise<number> {
    let bytes = 0
    let next = 0
    while (next < updates.length && !this.isDestroyed) {
      const sliceStartedAt = performance.now()
      this.doc.transact(() => {
        while (next < updates.length && performance.now() - sliceStartedAt < LOAD_SLICE_MS) {
          const update = updates[next++] as Uint8Array
          Y.applyUpdate(this.doc, update)
          bytes += update.length
        }
      }, LOAD_ORIGIN)
      if (next < updates.length) await new Promise((resolve) => setImmediate(resolve))
    }
    return bytes
  }

  /**
   * Whether the document may grow by an update of `bytes`: false once it
   * is over `maxDocumentBytes`. Only updates that add content are checked
   * (the caller's part): deleting must stay possible in a full document.
   */
  admitsGrowth(bytes: number): boolean {
    const limit = this.limits.maxDocumentBytes
    if (limit === undefined || this.estimatedBytes + bytes <= limit) return true
    const now = performance.now()
    if (now - this.measuredAt >= REMEASURE_INTERVAL_MS) {
      this.measuredAt = now
      this.estimatedBytes = Y.encodeStateAsUpdate(this.doc).byteLength
    }
    return this.estimatedBytes + bytes <= limit
  }

  /**
   * Shares presence changes of local sessions with the local sessions and
   * other nodes. Changes are batched per event-loop turn: when many clients
   * publish at once (a room of hundreds renewing, a reconnect storm), each
   * socket gets one message per turn instead of one per change. Senders get
   * their own entries back, which y-protocols ignores (same clock).
   */
  shareAwareness(entries: readonly AwarenessEntry[]): void {
    if (entries.length === 0) return
    const isFlushScheduled = this.awarenessBatch !== null
    const pending = (this.awarenessBatch ??= new Map())
    for (const entry of entries) pending.set(entry.clientId, entry)
    if (isFlushScheduled) return
    setImmediate(() => {
      const batch = [...pending.values()]
      this.awarenessBatch = null
      if (batch.length === 0 || this.isDestroyed) return
      this.broadcast(encodeAwarenessMessage(encodeAwarenessUpdate(batch)), null)
      this.deps.log.publishAwareness(this.docId, batch)
    })
  }

  /**
   * Applies an update (already inspected by the caller) on behalf of
   * `origin`, which is then skipped by the broadcast.
   *
   * Yjs can throw halfway through an update that passed inspection, after
   * integrating part of it, and still emits that part from the transaction's
   * cleanup. So changes are held until the apply returns: on success they
   * are broadcast and appended; on failure nothing leaves the room, and the
   * room reports itself poisoned (its document may hold the partial update)
   * so the manager can discard it and reload the stored state.
   */
  applyUpdate(
    update: Uint8Array,
    origin: RoomMember | null,
    attribution: Attribution,
  ): ApplyOutcome {
    if (this.isPoisoned) return { ok: false, reason: 'poisoned' }
    const startedAt = performance.now()
    const store = this.doc.store
    const pendingBefore = this.pendingSnapshot()
    this.heldChanges = []
    try {
      Y.applyUpdate(this.doc, update, origin)
    } catch (error) {
      this.heldChanges = null
      this.isPoisoned = true
      this.logger.warn({ err: error }, 'room poisoned by an update that failed halfway')
      this.deps.onPoisoned(this)
      return { ok: false, reason: 'undecodable', error }
    }
    const changes = this.heldChanges
    this.heldChanges = null
    let appended: Promise<unknown> | null = null
    for (const change of changes) {
      this.broadcast(encodeSyncUpdate(change), origin)
      appended = this.append(change, attribution)
    }
    if (changes.length > 0) this.deps.observeFanOut?.((performance.now() - startedAt) / 1000)

    let durable: Promise<unknown> = appended ?? this.lastAppend
    const hasPending = store.pendingStructs !== null || store.pendingDs !== null
    if (!hasPending && this.parkedRelease !== null) {
      // Everything parked earlier is now integrated by this transaction.
      this.parkedRelease.resolve(durable)
      this.parkedRelease = null
    }
    if (hasPending && this.hasPendingChanged(pendingBefore)) {
      if (this.pendingBytes() > this.limits.maxPendingUpdateBytes) {
        this.dropPending()
        return { ok: false, reason: 'too-much-pending' }
      }
      this.parkedRelease ??= createDeferred()
      durable = this.parkedRelease.promise
    }
    return { ok: true, durable }
  }

  /** Sends `frame` to every member but `except`. */
  broadcast(frame: Uint8Array, except: RoomMember | null): void {
    for (const member of this.members) {
      if (member !== except) member.deliver(frame)
    }
  }

  /** Settles when every append made so far has settled. */
  whenAppendsSettle(): Promise<unknown> {
    return this.lastAppend
  }

  /** Frees the document. The room is unusable afterwards. */
  destroy(): void {
    this.isDestroyed = true
    this.opened?.close()
    this.opened = null
    this.doc.off('update', this.handleDocumentUpdate)
    this.parkedRelease?.reject(new Error('room closed'))
    this.parkedRelease = null
    this.doc.destroy()
  }

  /**
   * Another node applied `update`. The room is its own log listener (a
   * listener object with three closures would cost each room about as much
   * as its presence registry). @internal
   */
  onRemoteUpdate(update: Uint8Array): void {
    this.applyRemote([update])
  }

  /** Another node's sessions changed presence. @internal */
  onRemoteAwareness(originNodeId: string, entries: readonly AwarenessEntry[]): void {
    const accepted = this.awareness.applyRemote(originNodeId, entries)
    if (accepted.length > 0)
      this.broadcast(encodeAwarenessMessage(encodeAwarenessUpdate(accepted)), null)
  }

  /** The log may have missed changes: apply these stored updates to catch up. @internal */
  onResync(updates: readonly Uint8Array[]): void {
    this.applyRemote(updates)
  }

  private readonly handleDocumentUpdate = this.receiveDocumentUpdate.bind(this)

  private receiveDocumentUpdate(update: Uint8Array, origin: unknown): void {
    this.encodedState = null
    this.encodedStateVector = null
    this.encodedPieces = null
    if (origin === LOAD_ORIGIN) return
    this.estimatedBytes += update.byteLength
    if (this.heldChanges !== null) {
      this.heldChanges.push(update)
      return
    }
    // Not reached today: every change goes through applyUpdate or
    // applyRemote, which hold it. Kept so a direct edit is never lost.
    this.broadcast(encodeSyncUpdate(update), (origin as RoomMember | null) ?? null)
    if (origin !== REMOTE_ORIGIN) this.append(update, NO_ATTRIBUTION)
  }

  /** Appends one applied change to the update log. */
  private append(update: Uint8Array, attribution: Attribution): Promise<unknown> {
    const appended = this.deps.log.append({
      docId: this.docId,
      update,
      userId: attribution.userId,
      connId: attribution.connId,
      sessionId: attribution.sessionId ?? null,
      receivedAtMs: Date.now(),
      busId: this.deps.nextBusId(),
    })
    // Failures surface through each session's acknowledgement chain; this
    // handler only keeps the promise from being reported as unhandled.
    appended.catch(() => undefined)
    this.lastAppend = appended
    return appended
  }

  /**
   * Applies changes other nodes made (or stored state to catch up); never
   * throws. Relayed to every local session, and not appended again, except
   * when the transaction also integrated updates that local sessions had
   * parked: those exist nowhere else yet, so the transaction is appended
   * (repeating the remote part in the log costs bytes, never correctness)
   * and their acknowledgements are released once it is stored.
   */
  private applyRemote(updates: readonly Uint8Array[]): void {
    if (this.isPoisoned) return
    const pendingBefore = this.pendingSnapshot()
    this.heldChanges = []
    try {
      this.doc.transact(() => {
        for (const update of updates) Y.applyUpdate(this.doc, update)
      }, REMOTE_ORIGIN)
    } catch (err) {
      // Remote updates were accepted and validated by the node that made
      // them; one that fails here means this room's state is suspect.
      this.heldChanges = null
      this.logger.error({ err }, 'remote update failed to apply')
      this.isPoisoned = true
      this.deps.onPoisoned(this)
      return
    }
    const changes = this.heldChanges
    this.heldChanges = null
    const hasIntegratedParked = this.parkedRelease !== null && this.hasPendingChanged(pendingBefore)
    let appended: Promise<unknown> | null = null
    for (const change of changes) {
      this.broadcast(encodeSyncUpdate(change), null)
      if (hasIntegratedParked) appended = this.append(change, NO_ATTRIBUTION)
    }
    const store = this.doc.store
    if (this.parkedRelease !== null && store.pendingStructs === null && store.pendingDs === null) {
      this.parkedRelease.resolve(appended ?? this.lastAppend)
      this.parkedRelease = null
    }
  }

  /** Copies of the pending bytes (Yjs replaces them on every apply, even unchanged). */
  private pendingSnapshot(): PendingSnapshot {
    return { structs: this.doc.store.pendingStructs?.update ?? null, ds: this.doc.store.pendingDs }
  }

  /** Whether the parked updates differ in content from `before`. */
  private hasPendingChanged(before: PendingSnapshot): boolean {
    const now = this.pendingSnapshot()
    return !areBytesEqual(before.structs, now.structs) || !areBytesEqual(before.ds, now.ds)
  }

  private pendingBytes(): number {
    const store = this.doc.store
    return (store.pendingStructs?.update.length ?? 0) + (store.pendingDs?.length ?? 0)
  }

  /**
   * Forgets updates parked for missing dependencies. They were never
   * integrated, broadcast or stored; the sessions that sent them lose their
   * acknowledgement chain and are closed, and resend on reconnect.
   */
  private dropPending(): void {
    this.logger.warn({ bytes: this.pendingBytes() }, 'pending updates dropped')
    this.doc.store.pendingStructs = null
    this.doc.store.pendingDs = null
    this.parkedRelease?.reject(new Error('pending updates dropped'))
    this.parkedRelease = null
  }
}
