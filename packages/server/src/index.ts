export * from './config/index.js'
export {
  ContentError,
  type ContentErrorCode,
  docToHtml,
  docToJson,
  docToMarkdown,
  docToText,
  firstHeadingText,
  htmlToNode,
  htmlToUpdate,
  type ImportOptions,
  isContentError,
  MAX_IMPORT_BYTES,
  markdownToNode,
  markdownToUpdate,
  nodeToUpdate,
} from './content/index.js'
export { createLogger, type Logger } from './log/index.js'
export { startQuireServer, type QuireServer, type StartOptions } from './main.js'
export {
  createDirectorySource,
  createTableSource,
  findMissingOrganisations,
  type ImportOutcome,
  importLegacySnapshots,
  type LegacyImportReport,
  type LegacySource,
  openLegacyDatabase,
  type OrgRule,
  parseOrgMap,
} from './maintenance.js'
export {
  type DeadLetterSummary,
  listDeadLetters,
  openStoreForMaintenance,
  pruneHistory,
  type PrunePassSummary,
  retryDeadLetters,
  type RetentionPolicy,
  type RetryOutcome,
} from './maintenance.js'
