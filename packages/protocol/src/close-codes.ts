/**
 * WebSocket close codes Quire uses, one per kind of outcome. Codes from 4000
 * are application codes (RFC 6455 §7.4.2). Following y-websocket's
 * convention, 4400-4499 mean "reconnecting cannot help" (its provider stops
 * retrying) and 4500-4599 mean "try again later". See `isRetryableClose`.
 */
export const CloseCode = {
  /** Standard: the server is going away for good (not used on restart). */
  GoingAway: 1001,
  /** Standard: a text frame; Quire speaks binary frames only. */
  UnsupportedData: 1003,
  /** Standard: a frame over the configured message size limit. */
  MessageTooBig: 1009,
  /** Standard: the server hit a bug handling this socket's message. */
  InternalError: 1011,
  /** Standard: the node is restarting or shutting down; reconnect at once. */
  ServiceRestart: 1012,
  /**
   * Standard "try again later": over a rate budget. Not 4429: y-websocket's
   * provider treats 4400-4499 as final and would never reconnect.
   */
  RateLimited: 1013,
  /** A message that does not decode, has trailing bytes or an unknown type. */
  MalformedMessage: 4400,
  /** Authentication missing, expired or revoked. */
  Unauthorized: 4401,
  /** The connection's role does not allow what it sent. */
  Forbidden: 4403,
  /** The document does not exist or is not the caller's to see. */
  NotFound: 4404,
  /**
   * The client's document schema is older than the document's: its editor
   * could drop content it does not understand. Reloading fetches the new one.
   */
  ClientTooOld: 4426,
  /** A document or held-back update over its size limit. */
  TooLarge: 4413,
  /** The document could not be loaded or stored right now; retry later. */
  Unavailable: 4503,
  /** The client stopped reading: its send buffer passed the limit. Reconnect. */
  SlowConsumer: 4508,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** Whether a client that saw this close code should reconnect (with backoff). */
export const isRetryableClose = (code: number): boolean =>
  code === CloseCode.ServiceRestart ||
  code === CloseCode.Unavailable ||
  code === CloseCode.SlowConsumer ||
  code === CloseCode.RateLimited ||
  code === CloseCode.GoingAway ||
  code === 1006 ||
  code === 1000

/**
 * Close reasons must fit in a control frame: 123 bytes of UTF-8 after the
 * code. Longer reasons are cut, on a character boundary.
 */
export const MAX_CLOSE_REASON_BYTES = 123

/** Shortens a close reason to what a close frame can carry. */
export const toCloseReason = (reason: string): string => {
  if (utf8Length(reason) <= MAX_CLOSE_REASON_BYTES) return reason
  let cut = reason.slice(0, MAX_CLOSE_REASON_BYTES)
  while (utf8Length(cut) > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1)
  return cut
}

const utf8 = new TextEncoder()
const utf8Length = (text: string): number => utf8.encode(text).length
