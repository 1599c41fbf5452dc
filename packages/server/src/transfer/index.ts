/** Export and import of whole documents (formats: `content/`). */
export {
  createDocumentTransfer,
  type DocumentTransfer,
  type DocumentTransferOptions,
  EXPORT_CACHE_MS,
  EXPORT_SETTLE_TIMEOUT_MS,
  type ImportOutcome,
  type VersionedState,
} from './document-transfer.js'
