/**
 * Loads each document once per node, however many clients join it at the
 * same moment, and unloads it after a grace period with no sessions. A
 * document whose stored state fails to load is never served: its sessions
 * are closed with a retry code and the next join tries the load again.
 */
import { CloseCode } from '@quire/protocol'
import * as Y from 'yjs'
import type { Logger } from '../log/index.js'
import type { DocumentLog } from './document-log.js'
import type { Peer } from './peer.js'
import { Room, type RoomDependencies, type RoomLimits } from './room.js'
import { Session } from './session.js'

/** The peer of edits made by server-side code: it has no socket. */
const SERVER_PEER: Peer = {
  connId: 'server',
  userId: null,
  userName: null,
  wantsSavedAcks: false,
  send: () => undefined,
  close: () => undefined,
}

/** Settings of a `RoomManager`. */
export interface RoomManagerOptions extends RoomLimits {
  /** How long a room with no sessions stays loaded, in ms. */
  readonly roomIdleMs: number
  /** How long loading may take before its sessions are told to retry, in ms. */
  readonly loadTimeoutMs: number
  /** This node's id, part of every update's idempotency key. */
  readonly nodeId: string
  /** Receives each applied client update's fan-out time, s (metrics). */
  readonly observeFanOut?: (seconds: number) => void
}

interface RoomEntry {
  readonly room: Room
  state: 'loading' | 'open'
  /** Every session of the room; those joined while it loads are opened when it has. */
  readonly sessions: Set<Session>
  idleTimer: NodeJS.Timeout | null
  /** Settles when loading finished, whether it succeeded or not. */
  loaded: Promise<void>
}

/** Owns every room of this node. */
export class RoomManager {
  private readonly entries = new Map<string, RoomEntry>()
  /** Appends still settling for rooms already unloaded, by document. */
  private readonly draining = new Map<string, Promise<unknown>>()
  private busIdCounter = 0
  private isShuttingDown = false

  /** What every room gets from the manager: one object for all rooms, not one each. */
  private readonly roomDependencies: RoomDependencies
  private readonly roomLimits: RoomLimits

  constructor(
    private readonly log: DocumentLog,
    private readonly logger: Logger,
    private readonly options: RoomManagerOptions,
  ) {
    this.roomDependencies = {
      log,
      logger,
      nextBusId: () => this.nextBusId(),
      onPoisoned: (room) =>
        queueMicrotask(() => {
          const entry = this.entries.get(room.docId)
          if (entry?.room === room) this.discard(room.docId, entry)
        }),
      ...(options.observeFanOut === undefined ? {} : { observeFanOut: options.observeFanOut }),
    }
    this.roomLimits = {
      maxPendingUpdateBytes: options.maxPendingUpdateBytes,
      ...(options.maxDocumentBytes === undefined
        ? {}
        : { maxDocumentBytes: options.maxDocumentBytes }),
    }
  }

  /** Number of rooms held in memory, loading or open. */
  get roomCount(): number {
    return this.entries.size
  }

  /** Number of sessions across all rooms. */
  get sessionCount(): number {
    let count = 0
    for (const entry of this.entries.values()) count += entry.sessions.size
    return count
  }

  /**
   * Starts a session of `peer` on `docId`. Its frames may be handed to the
   * session at once; they are held until the document has loaded.
   */
  join(
    docId: string,
    peer: Peer,
    options: { readonly canWrite: boolean } = { canWrite: true },
  ): Session {
    const session = new Session(docId, peer, this.logger, options)
    if (this.isShuttingDown) {
      session.fail(CloseCode.ServiceRestart, 'server restarting')
      return session
    }
    const entry = this.acquire(docId)
    entry.sessions.add(session)
    if (entry.state === 'open') session.open(entry.room)
    return session
  }

  /** Ends a session: the transport closed, or the session failed. */
  leave(session: Session): void {
    session.handleClosed()
    const entry = this.entries.get(session.docId)
    if (entry === undefined || !entry.sessions.delete(session)) return
    if (entry.sessions.size === 0 && entry.state === 'open' && !this.isShuttingDown) {
      this.leaveEmpty(session.docId, entry)
    }
  }

  /**
   * Applies an edit made by server-side code (an import, a restore, an API
   * call) to a document, loading it if no one has it open. `change` edits a
   * scratch copy of the current state; what it changed is applied to the
   * room as one update, relayed to every session on every node and stored.
   * Resolves once the edit is durable.
   */
  async applyServerEdit(
    docId: string,
    change: (doc: Y.Doc) => void,
    attribution: { readonly userId: string | null; readonly connId: string | null } = {
      userId: null,
      connId: null,
    },
  ): Promise<void> {
    if (this.isShuttingDown) throw new Error('server is shutting down')
    const entry = this.acquire(docId)
    const holder: Session = new Session(docId, SERVER_PEER, this.logger)
    entry.sessions.add(holder)
    try {
      await this.whenOpen(docId, entry)
      const scratch = new Y.Doc()
      try {
        Y.applyUpdate(scratch, Y.encodeStateAsUpdate(entry.room.doc))
        const before = Y.encodeStateVector(scratch)
        scratch.transact(() => change(scratch))
        const outcome = entry.room.applyUpdate(
          Y.encodeStateAsUpdate(scratch, before),
          null,
          attribution,
        )
        if (!outcome.ok) throw new Error(`server edit of ${docId} failed: ${outcome.reason}`)
        await outcome.durable
      } finally {
        scratch.destroy()
      }
    } finally {
      this.leave(holder)
    }
  }

  /**
   * Applies `update`, made by server-side code elsewhere (a restore computed
   * in a worker), to a document as one edit, loading it if no one has it
   * open: as `applyServerEdit` without the scratch copy of the room's state,
   * which costs the node's thread time in proportion to the document.
   * Resolves once the edit is durable; rejects when the room refuses it.
   */
  async applyServerUpdate(
    docId: string,
    update: Uint8Array,
    attribution: { readonly userId: string | null; readonly connId: string | null },
  ): Promise<void> {
    if (this.isShuttingDown) throw new Error('server is shutting down')
    const entry = this.acquire(docId)
    const holder: Session = new Session(docId, SERVER_PEER, this.logger)
    entry.sessions.add(holder)
    try {
      await this.whenOpen(docId, entry)
      const outcome = entry.room.applyUpdate(update, null, attribution)
      if (!outcome.ok) throw new Error(`server edit of ${docId} failed: ${outcome.reason}`)
      await outcome.durable
    } finally {
      this.leave(holder)
    }
  }

  /**
   * Settles once every edit this node's room of `docId` has applied so far
   * is stored (or failed to be), at once when no room of it is held here.
   * Never rejects. Lets a reader of the stored state, such as an export,
   * include what people on this node typed a moment ago.
   */
  async whenEditsStored(docId: string): Promise<void> {
    const entry = this.entries.get(docId)
    const settling =
      entry?.state === 'open' ? entry.room.whenAppendsSettle() : this.draining.get(docId)
    // A failed append is its author's to report (their acknowledgement
    // chain closes their socket); the reader just gets the stored state.
    await settling?.catch(() => undefined)
  }

  /** The document's entry, loading it when absent; an idle room is kept. */
  private acquire(docId: string): RoomEntry {
    const entry = this.entries.get(docId) ?? this.startLoading(docId)
    if (entry.idleTimer !== null) {
      clearTimeout(entry.idleTimer)
      entry.idleTimer = null
    }
    return entry
  }

  /** Resolves once the entry's room has loaded; rejects if the load failed. */
  private async whenOpen(docId: string, entry: RoomEntry): Promise<void> {
    await entry.loaded
    if (entry.state !== 'open' || this.entries.get(docId) !== entry) {
      throw new Error(`document ${docId} could not be loaded`)
    }
  }

  /**
   * Graceful stop: refuses new sessions, closes open ones with a restart
   * code so clients reconnect elsewhere at once, and waits for every append
   * to settle. The caller then closes the store, which flushes it.
   */
  async shutdown(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.isShuttingDown = true
    const settling: Promise<unknown>[] = [...this.draining.values()]
    for (const [docId, entry] of this.entries) {
      if (entry.idleTimer !== null) clearTimeout(entry.idleTimer)
      for (const session of entry.sessions)
        session.fail(CloseCode.ServiceRestart, 'server restarting')
      settling.push(entry.room.whenAppendsSettle())
      this.entries.delete(docId)
    }
    // Bounded: appends that cannot become durable (the database or Redis is
    // gone) must not hold the process; their clients resend on reconnect.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => {
      if (Number.isFinite(timeoutMs)) timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([Promise.allSettled(settling), timeout])
    clearTimeout(timer)
    // Rooms are destroyed only after their appends settled, so no
    // acknowledgement is lost to a destroyed document.
  }

  private startLoading(docId: string): RoomEntry {
    const room = new Room(docId, this.roomDependencies, this.roomLimits)
    const entry: RoomEntry = {
      room,
      state: 'loading',
      sessions: new Set(),
      idleTimer: null,
      loaded: Promise.resolve(),
    }
    this.entries.set(docId, entry)
    entry.loaded = this.load(docId, entry)
    return entry
  }

  private async load(docId: string, entry: RoomEntry): Promise<void> {
    const startedAt = performance.now()
    let timer: NodeJS.Timeout | undefined
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`load took longer than ${this.options.loadTimeoutMs} ms`)),
          this.options.loadTimeoutMs,
        )
      })
      // A previous room of this document may still be committing its last
      // updates; loading before they land would serve a state without them.
      // The wait counts against the load timeout: if the database refuses
      // writes, it may never end.
      const loading = (this.draining.get(docId) ?? Promise.resolve()).then(() => entry.room.load())
      loading.catch(() => undefined)
      const loaded = await Promise.race([loading, timeout])
      this.logger.info(
        { docId, durationMs: Math.round(performance.now() - startedAt), ...loaded },
        'room loaded',
      )
    } catch (err) {
      this.logger.error({ docId, err }, 'room load failed')
      this.failLoad(docId, entry)
      return
    } finally {
      clearTimeout(timer)
    }
    if (this.entries.get(docId) !== entry) return
    entry.state = 'open'
    // Server edits hold the room with a session of their own, never opened:
    // it has no client to greet.
    for (const session of [...entry.sessions])
      if (session.peer !== SERVER_PEER) session.open(entry.room)
    if (entry.sessions.size === 0) this.leaveEmpty(docId, entry)
  }

  private failLoad(docId: string, entry: RoomEntry): void {
    if (this.entries.get(docId) === entry) this.entries.delete(docId)
    for (const session of entry.sessions) {
      session.fail(CloseCode.Unavailable, 'document could not be loaded; retry later')
    }
    entry.sessions.clear()
    entry.room.destroy()
  }

  /**
   * Drops a poisoned room: its sessions are told to reconnect, and the next
   * join loads the stored state again, which never held the partial update.
   */
  private discard(docId: string, entry: RoomEntry): void {
    if (this.entries.get(docId) !== entry) return
    for (const session of entry.sessions)
      session.fail(CloseCode.Unavailable, 'document is reloading; reconnect')
    entry.sessions.clear()
    if (entry.idleTimer !== null) clearTimeout(entry.idleTimer)
    this.unload(docId, entry)
  }

  private leaveEmpty(docId: string, entry: RoomEntry): void {
    entry.idleTimer = setTimeout(() => this.unload(docId, entry), this.options.roomIdleMs)
    entry.idleTimer.unref()
  }

  private unload(docId: string, entry: RoomEntry): void {
    if (this.entries.get(docId) !== entry || entry.sessions.size > 0) return
    entry.idleTimer = null
    this.entries.delete(docId)
    const settled = entry.room.whenAppendsSettle().then(
      () => undefined,
      () => undefined,
    )
    this.draining.set(docId, settled)
    void settled.then(() => {
      if (this.draining.get(docId) === settled) this.draining.delete(docId)
    })
    entry.room.destroy()
    this.logger.info({ docId }, 'room unloaded')
  }

  private nextBusId(): string {
    this.busIdCounter += 1
    return `${this.options.nodeId}:${this.busIdCounter}`
  }
}
