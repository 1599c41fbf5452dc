/**
 * A room `Peer` over one `ws` WebSocket.
 */
import { CloseCode, toCloseReason } from '@quire/protocol'
import { WebSocket } from 'ws'
import type { Peer } from '../room/index.js'
import { sendBinary } from './binary-frame.js'

/** How long a closing socket may take to finish the close handshake, in ms. */
export const CLOSE_HANDSHAKE_TIMEOUT_MS = 5_000

/** A peer backed by a WebSocket. */
export class WebSocketPeer implements Peer {
  /** Set by each pong or message; cleared by each ping round. */
  isAlive = true
  /** Reading is paused (rate limit or overload): the ping reaper spares it. */
  isPaused = false
  /** Ping rounds in a row in which nothing was heard from the client. */
  missedRounds = 0

  readonly connId: string
  readonly userId: string | null
  readonly userName: string | null
  /** The session family the socket was opened with, for revocation. */
  readonly sessionId: string | null
  readonly wantsSavedAcks: boolean
  /** Bytes queued for a client that is not reading, past which it is closed. */
  private readonly maxSendBufferBytes: number
  /** Told once when the peer is closed for not reading, with the bytes queued. */
  private readonly onSlowConsumer: (bufferedBytes: number, peer: WebSocketPeer) => void

  constructor(
    readonly socket: WebSocket,
    options: {
      readonly connId: string
      readonly userId: string | null
      readonly userName: string | null
      readonly sessionId: string | null
      readonly wantsSavedAcks: boolean
      readonly maxSendBufferBytes: number
      readonly onSlowConsumer?: (bufferedBytes: number, peer: WebSocketPeer) => void
    },
  ) {
    this.connId = options.connId
    this.userId = options.userId
    this.userName = options.userName
    this.sessionId = options.sessionId
    this.wantsSavedAcks = options.wantsSavedAcks
    this.maxSendBufferBytes = options.maxSendBufferBytes
    this.onSlowConsumer = options.onSlowConsumer ?? (() => undefined)
  }

  send(frame: Uint8Array): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (this.socket.bufferedAmount + frame.length > this.maxSendBufferBytes) {
      // Queuing more would grow memory without bound; the client resyncs
      // through the state-vector handshake when it reconnects.
      if (this.socket.readyState === WebSocket.OPEN)
        this.onSlowConsumer(this.socket.bufferedAmount, this)
      this.close(CloseCode.SlowConsumer, 'send buffer full: the client is not reading')
      return
    }
    sendBinary(this.socket, frame)
  }

  sendFlushed(frame: Uint8Array): Promise<void> {
    if (this.socket.readyState !== WebSocket.OPEN) return Promise.resolve()
    return new Promise((resolve) => {
      // ws calls back once the frame is written to the socket (or with an
      // error when the socket closed first): either way the stream moves on.
      this.socket.send(frame, () => resolve())
    })
  }

  close(code: number, reason: string): void {
    if (
      this.socket.readyState !== WebSocket.OPEN &&
      this.socket.readyState !== WebSocket.CONNECTING
    ) {
      return
    }
    this.socket.close(code, toCloseReason(reason))
    // A client that never answers the close frame must not hold the socket.
    const timer = setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS)
    timer.unref()
    this.socket.once('close', () => clearTimeout(timer))
  }
}
