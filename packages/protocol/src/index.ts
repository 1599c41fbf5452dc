export { BoundedReader, DecodeError } from './bounded-reader.js'
export {
  CloseCode,
  isRetryableClose,
  MAX_CLOSE_REASON_BYTES,
  toCloseReason,
} from './close-codes.js'
export {
  type AwarenessEntry,
  type ClientMessage,
  type DecodedClientMessage,
  type QuireMessage,
  decodeClientMessage,
  decodeQuireMessage,
  encodeAwarenessMessage,
  encodeAwarenessUpdate,
  encodeKeepAlive,
  encodeQueryAwareness,
  encodeSaved,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  isContentMessage,
  MAX_AWARENESS_STATE_CHARS,
  readAwarenessUpdate,
} from './client-message.js'
export { DOCUMENT_ID_PATTERN, isDocumentId } from './document-id.js'
export { isRangeDeleted, wouldChange } from './document-facts.js'
export { isJsonDepthWithin, MAX_JSON_DEPTH } from './json-depth.js'
export {
  MAX_SCHEMA_VERSION,
  MessageType,
  parseSchemaVersionParam,
  QuireMessageType,
  SAVED_ACKS_PARAM,
  SCHEMA_VERSION_PARAM,
  SyncMessageType,
} from './message-type.js'
export {
  MAX_ANY_DEPTH,
  MAX_CLOCK,
  type UpdateInspection,
  type UpdateSummary,
  inspectUpdateV1,
} from './update-inspection.js'
