/** Document history: versions, states at any update, restores. */
export {
  type ChangesResult,
  createDocumentHistory,
  type DocumentHistory,
  type DocumentHistoryOptions,
  MAX_ATTRIBUTION_UPDATES,
  MAX_RESTORED_BLOCKS,
} from './document-history.js'
export {
  type ChangesDescriber,
  type ChangesDescriberOptions,
  createChangesDescriber,
} from './changes-describer.js'
export {
  type ChangeAttrs,
  type ChangeAuthor,
  type ChangeKind,
  type DocumentChanges,
  describeChanges,
  type ProseMirrorJson,
} from './attribution.js'
