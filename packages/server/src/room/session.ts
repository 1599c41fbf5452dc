/**
 * One client's connection to one document: decodes its frames, applies what
 * they carry to the room, and tells the client how much of its content is
 * durable. Frames that arrive while the document loads are held (up to a
 * bound) and handled in order once it has loaded, so nothing a client sends
 * right after the upgrade is lost and nothing is answered before the stored
 * state is in memory.
 */
import {
  CloseCode,
  type ClientMessage,
  decodeClientMessage,
  encodeAwarenessMessage,
  encodeAwarenessUpdate,
  encodeSaved,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  inspectUpdateV1,
  wouldChange,
} from '@quire/protocol'
import * as Y from 'yjs'
import type { Logger } from '../log/index.js'
import type { Peer } from './peer.js'
import type { Room, RoomMember } from './room.js'

/** Frames held per session while its document loads. */
export const MAX_FRAMES_BEFORE_LOAD = 1024

/** Bytes held per session while its document loads. */
export const MAX_BYTES_BEFORE_LOAD = 16 * 1024 * 1024

type SessionState = 'loading' | 'open' | 'closed'

/** The start of every acknowledgement chain (a settled promise is immutable: one serves all). */
const SETTLED: Promise<void> = Promise.resolve()

/** A client's session with one room. Created by `RoomManager.join`. */
export class Session implements RoomMember {
  private state: SessionState = 'loading'
  private room: Room | null = null
  /** Frames received while the room loads; null once open (and before the first). */
  private held: Uint8Array[] | null = null
  private heldBytes = 0
  /** Content messages (sync step 2 and update) received so far. */
  private contentCount = 0
  private ackChain: Promise<void> = SETTLED
  private savedCount = 0
  private savedFlushScheduled = false

  /** Whether this session may change the document (owner, editor, or no accounts). */
  private canWrite: boolean
  /**
   * Bound to the document and connection on the first log line: most
   * sessions never log, and a pino child costs about a kilobyte each.
   */
  private childLogger: Logger | null = null

  /** `logger` is the node's; the session logs through a child bound to `docId` and the peer. */
  constructor(
    readonly docId: string,
    readonly peer: Peer,
    private readonly parentLogger: Logger,
    options: { readonly canWrite: boolean } = { canWrite: true },
  ) {
    this.canWrite = options.canWrite
  }

  private get logger(): Logger {
    return (this.childLogger ??= this.parentLogger.child({
      docId: this.docId,
      connId: this.peer.connId,
    }))
  }

  /** Changes what the session may do, when the user's role changed while connected. */
  setCanWrite(canWrite: boolean): void {
    this.canWrite = canWrite
  }

  /** Handles one binary frame from the client. The frame must be the session's own copy. */
  handleFrame(frame: Uint8Array): void {
    if (this.state === 'closed') return
    if (this.state === 'loading') {
      this.holdFrame(frame)
      return
    }
    this.processFrame(frame)
  }

  /** Called by the manager once the room has loaded: greet the client, then drain held frames. */
  open(room: Room): void {
    if (this.state !== 'loading') return
    this.room = room
    this.state = 'open'
    room.members.add(this)
    this.peer.send(encodeSyncStep1(room.stateVector()))
    const presence = room.awareness.snapshot()
    if (presence.length > 0) this.peer.send(encodeAwarenessMessage(encodeAwarenessUpdate(presence)))

    const held = this.held ?? []
    this.held = null
    this.heldBytes = 0
    for (const frame of held) {
      if (this.state !== 'open') break
      this.processFrame(frame)
    }
  }

  /** Closes the client's connection; the transport then reports `handleClosed`. */
  fail(code: number, reason: string): void {
    if (this.state === 'closed') return
    this.logger.info({ code, reason }, 'session refused')
    this.peer.close(code, reason)
    this.detach()
  }

  /** Called when the transport closed; idempotent. */
  handleClosed(): void {
    this.detach()
  }

  /** Whether the session has ended. */
  get isClosed(): boolean {
    return this.state === 'closed'
  }

  deliver(frame: Uint8Array): void {
    if (this.state === 'open') this.peer.send(frame)
  }

  private detach(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.held = null
    const room = this.room
    if (room === null) return
    room.members.delete(this)
    room.shareAwareness(room.awareness.release(this))
  }

  private holdFrame(frame: Uint8Array): void {
    const held = (this.held ??= [])
    held.push(frame)
    this.heldBytes += frame.length
    if (held.length > MAX_FRAMES_BEFORE_LOAD || this.heldBytes > MAX_BYTES_BEFORE_LOAD) {
      this.fail(CloseCode.RateLimited, 'too many messages before the document loaded')
    }
  }

  private processFrame(frame: Uint8Array): void {
    const decoded = decodeClientMessage(frame)
    if (!decoded.ok) {
      this.fail(CloseCode.MalformedMessage, decoded.reason)
      return
    }
    this.handleMessage(decoded.message)
  }

  private handleMessage(message: ClientMessage): void {
    const room = this.room
    if (room === null) return
    switch (message.kind) {
      case 'sync-step1': {
        const sv = message.stateVector
        const pieces =
          this.peer.sendFlushed !== undefined && sv.length === 1 && sv[0] === 0
            ? room.stateInPieces()
            : null
        if (pieces === null) this.peer.send(encodeSyncStep2(room.stateAsUpdate(sv)))
        else void this.streamState(pieces)
        return
      }
      case 'sync-step2':
      case 'sync-update':
        this.handleContent(room, message.update)
        return
      case 'awareness':
        this.handleAwareness(room, message.entries)
        return
      case 'query-awareness': {
        const presence = room.awareness.snapshot()
        this.peer.send(encodeAwarenessMessage(encodeAwarenessUpdate(presence)))
        return
      }
      default: {
        const unreachable: never = message
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`)
      }
    }
  }

  private handleContent(room: Room, update: Uint8Array): void {
    const index = ++this.contentCount
    const inspection = inspectUpdateV1(update)
    if (!inspection.ok) {
      this.fail(CloseCode.MalformedMessage, inspection.reason)
      return
    }
    if (!this.canWrite) {
      // A read-only client's provider still sends sync step 2; one that adds
      // nothing is fine. Anything that would change the document is refused,
      // and the socket is told why.
      if (wouldChange(room.doc, update)) {
        this.fail(CloseCode.Forbidden, 'read-only: your role on this document cannot edit it')
        return
      }
      this.acknowledgeWhenDurable(index, room.whenAppendsSettle())
      return
    }
    if (inspection.summary.structs > 0 && !room.admitsGrowth(update.byteLength)) {
      // Refused whole and before applying: nothing of it reaches anyone.
      this.fail(
        CloseCode.TooLarge,
        'document is over its size limit; delete content or start a new document',
      )
      return
    }
    const outcome = room.applyUpdate(update, this, {
      userId: this.peer.userId,
      connId: this.peer.connId,
      sessionId: this.peer.sessionId ?? null,
    })
    if (!outcome.ok) {
      if (outcome.reason === 'too-much-pending') {
        // A retry code: y-websocket's provider gives up on 4400-4499, and
        // the reconnect's state-vector handshake resends in order.
        this.fail(
          CloseCode.Unavailable,
          'too many updates waiting for missing dependencies; reconnect',
        )
      } else if (outcome.reason === 'poisoned') {
        this.fail(CloseCode.Unavailable, 'document is reloading; reconnect')
      } else {
        this.logger.debug({ err: outcome.error }, 'update not applicable')
        this.fail(CloseCode.MalformedMessage, 'invalid update: Yjs could not apply it')
      }
      return
    }
    this.acknowledgeWhenDurable(index, outcome.durable)
  }

  /**
   * Sends a large state piece by piece, each once the previous one has left
   * the process, so a slow link paces it and every piece is a message the
   * client hears (F10). The pieces go as updates and the last (the delete
   * set) as the sync step 2, so the client counts itself synced only once it
   * has everything. Other frames (live edits) may go in between: Yjs keeps
   * what arrives early pending until what it refers to is in.
   */
  private async streamState(pieces: readonly Uint8Array[]): Promise<void> {
    const sendFlushed = this.peer.sendFlushed?.bind(this.peer)
    if (sendFlushed === undefined) return
    for (let i = 0; i < pieces.length - 1; i++) {
      if (this.state !== 'open') return
      await sendFlushed(encodeSyncUpdate(pieces[i] as Uint8Array))
    }
    if (this.state === 'open')
      this.peer.send(encodeSyncStep2(pieces[pieces.length - 1] as Uint8Array))
  }

  /**
   * Chains acknowledgements so they go out in order: message `index` is
   * acknowledged only after every earlier one. If durability fails, the
   * client is told to reconnect, which resends anything unsaved through the
   * state-vector handshake.
   */
  private acknowledgeWhenDurable(index: number, durable: Promise<unknown>): void {
    this.ackChain = this.ackChain.then(() =>
      durable.then(
        () => this.queueSaved(index),
        (err: unknown) => {
          this.logger.warn({ err }, 'update not stored')
          this.fail(CloseCode.Unavailable, 'changes could not be stored; reconnect to resend them')
        },
      ),
    )
  }

  /** Coalesces acknowledgements of one commit into a single frame. */
  private queueSaved(index: number): void {
    this.savedCount = index
    if (!this.peer.wantsSavedAcks || this.savedFlushScheduled) return
    this.savedFlushScheduled = true
    setImmediate(() => {
      this.savedFlushScheduled = false
      if (this.state === 'open') this.peer.send(encodeSaved(this.savedCount))
    })
  }

  /**
   * Presence carries the identity the server knows: the user's id and name
   * replace whatever the client claimed (its colour and cursor stay).
   */
  private stampIdentity(entries: Parameters<Room['awareness']['apply']>[1]): typeof entries {
    const { userId, userName } = this.peer
    if (userId === null) return entries
    return entries.map((entry) => {
      if (entry.state === null) return entry
      const claimed = entry.state.user as { color?: unknown } | null | undefined
      // Only the colour is the client's to choose; anything else it put on
      // `user` (an email, an avatar, a role) is dropped, not relayed.
      const color = typeof claimed?.color === 'string' ? claimed.color.slice(0, 32) : undefined
      const user = { id: userId, name: userName, ...(color === undefined ? {} : { color }) }
      return { ...entry, state: { ...entry.state, user } }
    })
  }

  private handleAwareness(room: Room, entries: Parameters<Room['awareness']['apply']>[1]): void {
    const result = room.awareness.apply(this, this.stampIdentity(entries))
    if (result.rejected !== null) {
      // Not fatal: a client that reconnects before its old socket is reaped
      // asks for its own id again; it gets it once the old one is gone.
      this.logger.debug({ reason: result.rejected }, 'awareness entry refused')
    }
    room.shareAwareness(result.accepted)
  }
}
