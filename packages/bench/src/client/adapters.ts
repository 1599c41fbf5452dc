/**
 * Protocol adapters: what differs between the servers on the wire. Quire and
 * y-websocket's server speak the y-websocket protocol on one document per
 * socket; Hocuspocus prefixes every message with the document name and wants
 * an authentication message before anything else. Everything above this
 * layer (sync, updates, latency) is the same code for every server.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** The servers the benchmark knows, by key. */
export const SERVER_KINDS = [
  'quire-embedded',
  'quire-postgres',
  'hocuspocus',
  'y-websocket',
] as const

/** One of `SERVER_KINDS`. */
export type ServerKind = (typeof SERVER_KINDS)[number]

/** y-websocket message types (y-protocols), shared by all three protocols. */
export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
/** Hocuspocus: authentication (client token, server answer). */
export const MESSAGE_AUTH = 2
/** Hocuspocus: the answer to a client's sync step 1. */
export const MESSAGE_SYNC_REPLY = 4
/** Hocuspocus: `[8, 1]` acknowledges one applied content message. */
export const MESSAGE_SYNC_STATUS = 8
/** Quire: `[100, 0, n]`, content messages 1..n are stored (docs/SPEC.md SAVE-2). */
export const MESSAGE_QUIRE = 100

/** A decoded inbound frame, reduced to what the benchmark uses. */
export type InboundMessage =
  | { readonly kind: 'sync'; readonly decoder: decoding.Decoder }
  | { readonly kind: 'ack'; readonly upTo: number | 'next' }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'other' }

/** What one server's protocol needs from a client. */
export interface ProtocolAdapter {
  /** The WebSocket URL of `docId` on a server whose base is `ws://host:port`. */
  url(base: string, docId: string, wantsAcks: boolean): string
  /** Frames sent right after the socket opens, before sync step 1. */
  openingFrames(docId: string): Uint8Array[]
  /** Whether the client must wait for an authentication answer before syncing. */
  readonly needsAuthenticated: boolean
  /** Writes the per-message prefix (none, or Hocuspocus's document name). */
  writePrefix(encoder: encoding.Encoder, docId: string): void
  /** Decodes one inbound frame. */
  decode(data: Uint8Array): InboundMessage
  /** Whether the server acknowledges content messages (Quire, Hocuspocus). */
  readonly hasAcks: boolean
}

const decodeYWebsocket = (decoder: decoding.Decoder): InboundMessage => {
  const type = decoding.readVarUint(decoder)
  if (type === MESSAGE_SYNC) return { kind: 'sync', decoder }
  if (type === MESSAGE_QUIRE) {
    // [100, kind 0 = saved, count]
    if (decoding.readVarUint(decoder) !== 0) return { kind: 'other' }
    return { kind: 'ack', upTo: decoding.readVarUint(decoder) }
  }
  return { kind: 'other' }
}

/** Quire: y-websocket protocol on `/sync/<id>`, saved acknowledgements with `?saved=1`. */
export const quireAdapter: ProtocolAdapter = {
  url: (base, docId, wantsAcks) => `${base}/sync/${docId}${wantsAcks ? '?saved=1' : ''}`,
  openingFrames: () => [],
  needsAuthenticated: false,
  writePrefix: () => undefined,
  decode: (data) => decodeYWebsocket(decoding.createDecoder(data)),
  hasAcks: true,
}

/** `@y/websocket-server`: y-websocket protocol on `/<id>`, no acknowledgements. */
export const yWebsocketAdapter: ProtocolAdapter = {
  url: (base, docId) => `${base}/${docId}`,
  openingFrames: () => [],
  needsAuthenticated: false,
  writePrefix: () => undefined,
  decode: (data) => decodeYWebsocket(decoding.createDecoder(data)),
  hasAcks: false,
}

/**
 * `@hocuspocus/server` 3.x: one socket may carry several documents, so each
 * message starts with the document name; the server queues everything until
 * the client's token message (`[name, 2, 0, token]`) has passed its hooks.
 */
export const hocuspocusAdapter: ProtocolAdapter = {
  url: (base) => base,
  openingFrames: (docId) => {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, docId)
    encoding.writeVarUint(encoder, MESSAGE_AUTH)
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarString(encoder, '')
    return [encoding.toUint8Array(encoder)]
  },
  needsAuthenticated: true,
  writePrefix: (encoder, docId) => encoding.writeVarString(encoder, docId),
  decode: (data) => {
    const decoder = decoding.createDecoder(data)
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type === MESSAGE_SYNC || type === MESSAGE_SYNC_REPLY) return { kind: 'sync', decoder }
    if (type === MESSAGE_SYNC_STATUS) {
      return decoding.readVarUint(decoder) === 1 ? { kind: 'ack', upTo: 'next' } : { kind: 'other' }
    }
    if (type === MESSAGE_AUTH) {
      // [2 = authenticated, scope] or [1 = permission denied, reason]
      return decoding.readVarUint(decoder) === 2 ? { kind: 'authenticated' } : { kind: 'other' }
    }
    return { kind: 'other' }
  },
  hasAcks: true,
}

/** The adapter of each server kind. */
export const adapterFor = (kind: ServerKind): ProtocolAdapter => {
  switch (kind) {
    case 'quire-embedded':
    case 'quire-postgres':
      return quireAdapter
    case 'hocuspocus':
      return hocuspocusAdapter
    case 'y-websocket':
      return yWebsocketAdapter
    default: {
      const unknown: never = kind
      throw new Error(`unknown server kind ${String(unknown)}`)
    }
  }
}
