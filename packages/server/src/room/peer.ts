/**
 * What a room needs from a connection, whatever carries it. The transport
 * layer implements it over a WebSocket; tests and server-side edits can
 * implement it without one.
 */
export interface Peer {
  /** Unique per node and process start; appears in logs and the update log. */
  readonly connId: string
  /** The authenticated user, or null with `--auth none`. */
  readonly userId: string | null
  /** The user's display name as the server knows it (stamped on presence), or null. */
  readonly userName: string | null
  /** The sign-in session the connection was opened with (audit), or null. */
  readonly sessionId?: string | null
  /** Whether the client asked for Quire's saved acknowledgements. */
  readonly wantsSavedAcks: boolean
  /**
   * Queues one binary frame; never throws (a dead peer drops it). The frame
   * is the peer's to keep: it must not be modified afterwards (a broadcast
   * hands one frame to every peer, and transports may frame it once for all).
   */
  send(frame: Uint8Array): void
  /**
   * Sends one frame and resolves once it has left this process (written to
   * the operating system), or the connection is gone. Lets a large state be
   * streamed at the pace the client reads it. Optional: peers without it get
   * the state in one frame.
   */
  sendFlushed?(frame: Uint8Array): Promise<void>
  /** Closes the connection with a code and reason; idempotent. */
  close(code: number, reason: string): void
}
