/**
 * Sends one binary message to many sockets with one framing. `ws` frames
 * every `send` on its own: it wraps the payload in a Buffer view, allocates a
 * header, and corks the socket to write header and payload as two chunks. A
 * broadcast of one update to hundreds of sockets of a document repeats that
 * for each of them. Here the WebSocket frame (header and payload in one
 * Buffer) is built once per message and the same Buffer is written to every
 * socket.
 *
 * Writing a ready frame goes through ws's `Sender#sendFrame`, the method ws
 * itself ends every send with; it is not part of ws's typed API, so its
 * presence is checked, and a socket without it (another ws major) gets a
 * plain `send`. That is safe only while ws has nothing queued of its own:
 * per-message compression is off on the sync endpoint and Blobs are never
 * sent, so every ws send writes straight to the socket and the order of
 * frames is kept (binary-frame.test.ts, test/integration/sync.test.ts).
 */
import { WebSocket } from 'ws'

/** The parts of ws's internals a pre-framed send uses (ws 8). */
interface WsSenderInternals {
  readonly _sender?: {
    sendFrame?: (list: readonly Buffer[], cb?: (err?: Error) => void) => void
  }
}

/** Binary, final fragment, unmasked (a server's frames are never masked), RFC 6455 §5.2. */
const BINARY_FIN = 0x82

/**
 * Payloads past this size go through ws's own send, which writes header and
 * payload without copying the payload: a large state goes to one client, and
 * copying it would cost more than framing saves.
 */
const MAX_PREFRAMED_BYTES = 64 * 1024

/** Builds the WebSocket frame of one binary message: header and payload in one Buffer. */
export const encodeBinaryFrame = (payload: Uint8Array): Buffer => {
  const length = payload.byteLength
  const headerBytes = length < 126 ? 2 : length < 65_536 ? 4 : 10
  const frame = Buffer.allocUnsafe(headerBytes + length)
  frame[0] = BINARY_FIN
  if (length < 126) {
    frame[1] = length
  } else if (length < 65_536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2)
    frame.writeUInt32BE(length % 2 ** 32, 6)
  }
  frame.set(payload, headerBytes)
  return frame
}

/**
 * The frame of the payload sent last: a broadcast hands the same payload
 * object to every member in a row, so one entry is the whole cache. Payloads
 * are never modified once handed to `Peer.send` (its contract).
 */
let lastPayload: Uint8Array | null = null
let lastFrame: Buffer | null = null

/** The frame of `payload`, built once for consecutive sends of the same payload object. */
const frameOf = (payload: Uint8Array): Buffer => {
  if (payload === lastPayload && lastFrame !== null) return lastFrame
  const frame = encodeBinaryFrame(payload)
  lastPayload = payload
  lastFrame = frame
  return frame
}

/**
 * Sends `payload` as one binary message on an open `socket`, framing it once
 * for every socket it is sent to in a row.
 */
export const sendBinary = (socket: WebSocket, payload: Uint8Array): void => {
  const sender = (socket as unknown as WsSenderInternals)._sender
  if (sender?.sendFrame === undefined || payload.byteLength > MAX_PREFRAMED_BYTES) {
    socket.send(payload)
    return
  }
  sender.sendFrame([frameOf(payload)])
}
