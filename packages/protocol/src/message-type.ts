/**
 * Message types of the y-websocket protocol, plus the one type Quire adds.
 * The first varint of every WebSocket frame is one of these.
 */
export const MessageType = {
  /** y-protocols sync: step 1, step 2 or update. */
  Sync: 0,
  /** y-protocols awareness update (presence). */
  Awareness: 1,
  /** y-protocols auth; only ever sent by the server. */
  Auth: 2,
  /** A request for every awareness state the peer knows. */
  QueryAwareness: 3,
  /**
   * Quire's own messages (saved acknowledgements and notices). Sent only to
   * clients that asked for them at connect time, so an unmodified y-websocket
   * client never sees a type it does not know.
   */
  Quire: 100,
} as const

export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Subtypes of a sync message, as y-protocols numbers them. */
export const SyncMessageType = {
  Step1: 0,
  Step2: 1,
  Update: 2,
} as const

export type SyncMessageType = (typeof SyncMessageType)[keyof typeof SyncMessageType]

/** Subtypes of a Quire message. */
export const QuireMessageType = {
  /** Server to client: how many of the client's content messages are durably stored. */
  Saved: 0,
} as const

export type QuireMessageType = (typeof QuireMessageType)[keyof typeof QuireMessageType]

/**
 * The URL query parameter a client sets (to `1`) to receive Quire messages.
 * y-websocket's provider passes it through its `params` option.
 */
export const SAVED_ACKS_PARAM = 'saved'

/**
 * The URL query parameter with the document schema version the client's
 * editor speaks (a positive integer). A client older than the document's
 * schema is refused (close code 4426); a newer one raises the document's
 * version. Clients without an editor (replay tools, plain y-websocket
 * providers) leave it out and are not checked.
 */
export const SCHEMA_VERSION_PARAM = 'schema'

/** Largest schema version a client may announce; anything else is malformed. */
export const MAX_SCHEMA_VERSION = 1_000_000

/** Parses the schema version parameter: a number, `null` when absent, `undefined` when malformed. */
export const parseSchemaVersionParam = (value: string | null): number | null | undefined => {
  if (value === null) return null
  if (!/^[1-9][0-9]{0,6}$/.test(value)) return undefined
  const version = Number(value)
  return version <= MAX_SCHEMA_VERSION ? version : undefined
}
