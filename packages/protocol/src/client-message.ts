/**
 * Decoding of the messages a client may send, and encoding of the messages
 * the server sends. Decoding is strict: one frame holds exactly one message,
 * every length is checked against the bytes present, and anything left over
 * is an error. Every decoded byte array is a copy, never a view into the
 * frame, so a later decoder can never read outside what it was given.
 */
import * as encoding from 'lib0/encoding'
import { BoundedReader, DecodeError } from './bounded-reader.js'
import { isJsonDepthWithin, MAX_JSON_DEPTH } from './json-depth.js'
import { MessageType, QuireMessageType, SyncMessageType } from './message-type.js'

/** A message from a client, decoded and structurally valid. */
export type ClientMessage =
  | { readonly kind: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step2'; readonly update: Uint8Array }
  | { readonly kind: 'sync-update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly entries: readonly AwarenessEntry[] }
  | { readonly kind: 'query-awareness' }

/** One client's entry in an awareness update; `state` null means "gone". */
export interface AwarenessEntry {
  readonly clientId: number
  readonly clock: number
  /** The parsed JSON state: a plain object, or null when the client left. */
  readonly state: Record<string, unknown> | null
}

/** Result of decoding a client frame. */
export type DecodedClientMessage =
  | { readonly ok: true; readonly message: ClientMessage }
  | { readonly ok: false; readonly reason: string }

/**
 * Decodes one binary frame from a client. Never throws on bad input.
 * Updates are checked for framing only here; `inspectUpdateV1` validates
 * their contents.
 */
export const decodeClientMessage = (frame: Uint8Array): DecodedClientMessage => {
  const reader = new BoundedReader(frame)
  try {
    const message = readClientMessage(reader)
    reader.expectEnd('message')
    return { ok: true, message }
  } catch (err) {
    if (err instanceof DecodeError)
      return { ok: false, reason: `malformed message: ${err.message}` }
    throw err
  }
}

const readClientMessage = (reader: BoundedReader): ClientMessage => {
  const type = reader.readVarUint()
  switch (type) {
    case MessageType.Sync:
      return readSyncMessage(reader)
    case MessageType.Awareness:
      return { kind: 'awareness', entries: readAwarenessUpdate(reader.readVarBytes()) }
    case MessageType.QueryAwareness:
      return { kind: 'query-awareness' }
    default:
      throw new DecodeError(`unknown message type ${type}`)
  }
}

const readSyncMessage = (reader: BoundedReader): ClientMessage => {
  const subtype = reader.readVarUint()
  switch (subtype) {
    case SyncMessageType.Step1: {
      const stateVector = reader.readVarBytes()
      checkStateVector(stateVector)
      return { kind: 'sync-step1', stateVector }
    }
    case SyncMessageType.Step2:
      return { kind: 'sync-step2', update: reader.readVarBytes() }
    case SyncMessageType.Update:
      return { kind: 'sync-update', update: reader.readVarBytes() }
    default:
      throw new DecodeError(`unknown sync message type ${subtype}`)
  }
}

/** A state vector is a count, then that many (client, clock) pairs. */
const checkStateVector = (bytes: Uint8Array): void => {
  const reader = new BoundedReader(bytes)
  const entries = reader.readCount(2)
  for (let i = 0; i < entries; i++) {
    reader.readVarUint()
    reader.readVarUint()
  }
  reader.expectEnd('state vector')
}

/**
 * Decodes the payload of an awareness message (y-protocols format: a count,
 * then client id, clock and JSON state per entry). A state must be a JSON
 * object or `null`.
 */
export const readAwarenessUpdate = (payload: Uint8Array): AwarenessEntry[] => {
  const reader = new BoundedReader(payload)
  const count = reader.readCount(3)
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientId = reader.readVarUint()
    const clock = reader.readVarUint()
    // Peers add one to a clock when a state leaves or times out; a clock
    // near 2^53 would make that removal unencodable for everyone.
    if (clock > MAX_AWARENESS_CLOCK) throw new DecodeError(`awareness clock ${clock} too large`)
    const json = reader.readVarString()
    entries.push({ clientId, clock, state: parseAwarenessState(json) })
  }
  reader.expectEnd('awareness update')
  return entries
}

/**
 * Largest awareness clock accepted. A client's clock grows by one per change
 * of its presence; 2^40 changes is far beyond any session, and leaves the
 * room that removals (clock + 1) need below 2^53.
 */
export const MAX_AWARENESS_CLOCK = 2 ** 40

/** Largest awareness state accepted, in UTF-16 code units of its JSON. */
export const MAX_AWARENESS_STATE_CHARS = 16 * 1024

const parseAwarenessState = (json: string): Record<string, unknown> | null => {
  if (json.length > MAX_AWARENESS_STATE_CHARS) {
    throw new DecodeError(`awareness state longer than ${MAX_AWARENESS_STATE_CHARS} characters`)
  }
  if (!isJsonDepthWithin(json))
    throw new DecodeError(`awareness state nested deeper than ${MAX_JSON_DEPTH}`)
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw new DecodeError('awareness state is not JSON')
  }
  if (value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DecodeError('awareness state is not an object')
  }
  return value as Record<string, unknown>
}

/** Encodes awareness entries in the y-protocols awareness update format. */
export const encodeAwarenessUpdate = (entries: readonly AwarenessEntry[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, JSON.stringify(entry.state))
  }
  return encoding.toUint8Array(encoder)
}

const encodeSync = (subtype: SyncMessageType, payload: Uint8Array): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.Sync)
  encoding.writeVarUint(encoder, subtype)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

/** Sync step 1: "here is my state vector, send me what I lack". */
export const encodeSyncStep1 = (stateVector: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.Step1, stateVector)

/** Sync step 2: the part of a document the peer lacks. */
export const encodeSyncStep2 = (update: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.Step2, update)

/** A sync update: one change, as applied. */
export const encodeSyncUpdate = (update: Uint8Array): Uint8Array =>
  encodeSync(SyncMessageType.Update, update)

/** An awareness message carrying an encoded awareness update. */
export const encodeAwarenessMessage = (awarenessUpdate: Uint8Array): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.Awareness)
  encoding.writeVarUint8Array(encoder, awarenessUpdate)
  return encoding.toUint8Array(encoder)
}

/** A request for every awareness state the peer knows. */
export const encodeQueryAwareness = (): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.QueryAwareness)
  return encoding.toUint8Array(encoder)
}

/**
 * Quire's saved acknowledgement: the first `count` content messages (sync
 * step 2 and update) the client sent on this connection are durably stored,
 * or needed no storing because the server already had their content.
 */
export const encodeSaved = (count: number): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MessageType.Quire)
  encoding.writeVarUint(encoder, QuireMessageType.Saved)
  encoding.writeVarUint(encoder, count)
  return encoding.toUint8Array(encoder)
}

/** A Quire message as a client decodes it. */
export type QuireMessage = { readonly kind: 'saved'; readonly count: number }

/**
 * Decodes a server frame of type `MessageType.Quire`; returns null for any
 * other frame or an unknown Quire subtype (newer servers may add some).
 */
export const decodeQuireMessage = (frame: Uint8Array): QuireMessage | null => {
  const reader = new BoundedReader(frame)
  try {
    if (reader.readVarUint() !== MessageType.Quire) return null
    if (reader.readVarUint() !== QuireMessageType.Saved) return null
    return { kind: 'saved', count: reader.readVarUint() }
  } catch {
    // A frame too short to be a Quire message is simply not one.
    return null
  }
}

/**
 * Whether a frame a client sends carries document content (sync step 2 or
 * update): the messages a saved acknowledgement counts.
 */
export const isContentMessage = (frame: Uint8Array): boolean =>
  frame.length >= 2 &&
  frame[0] === MessageType.Sync &&
  (frame[1] === SyncMessageType.Step2 || frame[1] === SyncMessageType.Update)

/**
 * A keep-alive: an awareness message with no entries, which every
 * y-protocols client accepts as a no-op. y-websocket's provider reconnects
 * after 30 s without any message; WebSocket pings do not count for it.
 */
export const encodeKeepAlive = (): Uint8Array => encodeAwarenessMessage(new Uint8Array([0]))
