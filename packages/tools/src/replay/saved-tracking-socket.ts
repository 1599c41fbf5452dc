/**
 * A `WebSocket` class for y-websocket's `WebSocketPolyfill` option that
 * counts the content messages a provider sends and reads Quire's saved
 * acknowledgements, so a client knows when its edits are durable without
 * any change to the provider.
 */
import { decodeQuireMessage, isContentMessage } from '@quire/protocol'
import WebSocket from 'ws'

/** Per-connection counters; a new connection starts a new count, as the server does. */
export interface SavedCounters {
  /** Content messages (sync step 2 and update) sent on the current connection. */
  sent: number
  /** Highest count the server has acknowledged as saved on the current connection. */
  saved: number
  /** Connections opened so far. */
  connections: number
  /** Close codes of the connections that ended, oldest first. */
  closeCodes: number[]
  /** The last connection error (e.g. `Unexpected server response: 404`), if any. */
  lastError: string | null
}

/** A tracker shared by one provider's successive sockets. */
export class SavedTracker {
  readonly counters: SavedCounters = {
    sent: 0,
    saved: 0,
    connections: 0,
    closeCodes: [],
    lastError: null,
  }
  private readonly listeners = new Set<() => void>()

  /** Whether everything sent on the current connection is acknowledged. */
  get isAllSaved(): boolean {
    return this.counters.saved >= this.counters.sent
  }

  /** Calls `listener` after every acknowledgement; returns an unsubscribe function. */
  onSaved(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * A WebSocket class bound to this tracker, for `WebSocketPolyfill`.
   * The provider constructs it with (url, protocols).
   */
  socketClass(): typeof WebSocket {
    const tracker = this
    class SavedTrackingSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { perMessageDeflate: false })
        tracker.counters.sent = 0
        tracker.counters.saved = 0
        tracker.counters.connections += 1
        this.addEventListener('error', (event) => {
          tracker.counters.lastError = event.message
        })
        this.addEventListener('close', (event) => {
          tracker.counters.closeCodes.push(event.code)
        })
        this.addEventListener('message', (event) => {
          if (!(event.data instanceof ArrayBuffer)) return
          const message = decodeQuireMessage(new Uint8Array(event.data))
          if (message === null) return
          tracker.counters.saved = Math.max(tracker.counters.saved, message.count)
          for (const listener of tracker.listeners) listener()
        })
      }

      override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
        if (data instanceof Uint8Array && isContentMessage(data)) tracker.counters.sent += 1
        ;(super.send as (...args: unknown[]) => void)(data, ...rest)
      }
    }
    // ws's constructor also accepts a null address (server side); providers never pass one.
    return SavedTrackingSocket as unknown as typeof WebSocket
  }
}
