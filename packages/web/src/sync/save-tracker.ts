/**
 * Knows whether every local edit is durably stored on the server.
 *
 * The server numbers the content messages (sync step 2 and update) each
 * socket sends, and acknowledges "the first n are stored" (SPEC SAVE-2).
 * So the tracker counts what the current socket sent and compares it with
 * the latest acknowledgement. Edits made while no socket could carry them
 * are "unsent" until the next socket's sync step 2, which carries every
 * change the server lacks (deletions included: y-protocols' step 2 always
 * holds the whole delete set).
 *
 * y-websocket 3.1.0 sends: sync step 1 on open; a step 2 in reply to the
 * server's step 1; one update message per local `Y.Doc` update while the
 * socket is open (`broadcastMessage`), and nothing for an update made
 * while it is not. Frames are counted where they are sent (a wrapped
 * `WebSocket.send`), which is exact whatever the provider's internals do.
 */
import { isContentMessage, MessageType, QuireMessageType, SyncMessageType } from '@quire/protocol'

/** Where a document's edits stand. */
export type SaveState = 'saved' | 'unsaved'

/** Counts and acknowledgements of one document's edits; owned by its `DocumentSync`. */
export class SaveTracker {
  private socket: WebSocket | null = null
  private sentCount = 0
  private savedCount = 0
  /** Local edits no socket carried yet (the next step 2 will). */
  private hasUnsent: boolean
  /** Set when the current socket sent an update frame, consumed by `handleLocalUpdate`. */
  private updateFrameSent = false

  constructor(
    hasUnsentAtStart: boolean,
    private readonly onChange: () => void,
  ) {
    this.hasUnsent = hasUnsentAtStart
  }

  /** Whether the server has durably stored every local edit. */
  get isSaved(): boolean {
    return !this.hasUnsent && this.savedCount >= this.sentCount
  }

  /**
   * A WebSocket class for the provider (`WebSocketPolyfill`) whose sockets
   * report what they send. Counts start at zero per socket: the server
   * numbers each connection's messages from 1.
   */
  createWebSocketClass(): typeof WebSocket {
    const tracker = this
    return class CountingWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        tracker.handleSocketCreated(this)
      }

      override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
        if (data instanceof Uint8Array) tracker.handleFrameSent(this, data)
        super.send(data)
      }
    }
  }

  private handleSocketCreated(socket: WebSocket): void {
    this.socket = socket
    this.sentCount = 0
    this.savedCount = 0
  }

  private handleFrameSent(socket: WebSocket, frame: Uint8Array): void {
    // A socket being replaced may still flush a reply; it no longer counts.
    if (socket !== this.socket || socket.readyState !== WebSocket.OPEN) return
    if (!isContentMessage(frame)) return
    this.sentCount++
    if (frame[1] === SyncMessageType.Step2) this.hasUnsent = false
    else this.updateFrameSent = true
    this.onChange()
  }

  /** Reads a saved acknowledgement (`[100, 0, count]`; the type is already read). */
  handleQuireMessage(subtype: number, count: number): void {
    if (subtype !== QuireMessageType.Saved) return
    if (count <= this.savedCount) return
    this.savedCount = Math.min(count, this.sentCount)
    this.onChange()
  }

  /**
   * A local edit (not one from the server, not one loaded from IndexedDB).
   * Runs after the provider's own update handler, which sends the update
   * at once if the socket is open; if it did not, the edit waits for the
   * next socket's step 2.
   */
  handleLocalUpdate(): void {
    if (this.updateFrameSent) this.updateFrameSent = false
    else this.hasUnsent = true
    this.onChange()
  }

  /** The socket closed: what it sent but did not get acknowledged goes out again in the next step 2. */
  handleSocketClosed(): void {
    if (this.savedCount < this.sentCount) this.hasUnsent = true
    this.socket = null
    this.sentCount = 0
    this.savedCount = 0
    this.updateFrameSent = false
    this.onChange()
  }
}

/** The message type of Quire's own messages, for `provider.messageHandlers`. */
export const QUIRE_MESSAGE_TYPE = MessageType.Quire
