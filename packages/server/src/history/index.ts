/** Document history: versions, states at any update, restores. */
export {
  type ChangesResult,
  createDocumentHistory,
  type DocumentHistory,
  type DocumentHistoryOptions,
  MAX_ATTRIBUTION_UPDATES,
} from './document-history.js'
export { computeRestoreUpdate, MAX_RESTORED_BLOCKS } from './restore-content.js'
export {
  type ChangesDescriber,
  type ChangesDescriberOptions,
  createChangesDescriber,
  type RestoreComputer,
} from './changes-describer.js'
export {
  type ChangeAttrs,
  type ChangeAuthor,
  type ChangeKind,
  type DocumentChanges,
  describeChanges,
  type ProseMirrorJson,
} from './attribution.js'
