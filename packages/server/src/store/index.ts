/**
 * The storage layer's public surface. Other folders import from here only,
 * and depend on the `DocumentStore` interface; `main.ts` picks a factory.
 */
export type {
  AppendedUpdate,
  DocumentStore,
  StoredDocument,
  UpdateRecord,
} from './document-store.js'
export {
  createSqlDocumentStore,
  DEFAULT_SQL_DOCUMENT_STORE_OPTIONS,
  type EmbeddedStoreOptions,
  openEmbeddedStore,
  openPostgresStore,
  type PostgresStoreOptions,
  type SqlDocumentStore,
  type SqlDocumentStoreOptions,
  type SqlDocumentStoreTuning,
} from './sql-document-store.js'
export type { CompactionResult } from './compactor.js'
export type { CheckpointRenderer } from './checkpoint-html.js'
export {
  createAdvisoryDocumentLock,
  createProcessDocumentLock,
  DOCUMENT_LOCK_NAMESPACE,
  type DocumentLock,
} from './document-lock.js'
export type { SqlClient, SqlParam } from './sql-client.js'
export { createPgClient, type PgClientOptions } from './pg-client.js'
export { openPgliteClient, type PgliteClientOptions } from './pglite-client.js'
export { admitSchemaVersion } from './schema-versions.js'
export {
  type AuditEntry,
  type HistoryWindow,
  type HistoryWindowResult,
  listAudit,
  loadHistoryWindow,
  type LoggedUpdate,
  listVersions,
  loadStateAt,
  loadStateParts,
  type MergedState,
  mergeStateParts,
  type StateMerger,
  readLastSeq,
  saveNamedVersion,
  type SaveVersionOptions,
  type VersionEditor,
  type VersionSummary,
} from './history.js'
export {
  DEFAULT_RETENTION_POLICY,
  type DocumentPruneOutcome,
  type DocumentPruneResult,
  pruneDocumentHistory,
  pruneHistory,
  type PrunePassSummary,
  readHistoryPrunedSeq,
  type RetentionPolicy,
} from './history-retention.js'
export {
  DEFAULT_PRUNE_INTERVAL_MS,
  type HistoryPruner,
  type HistoryPrunerOptions,
  startHistoryPruner,
} from './history-pruner.js'
export { migrate, MIGRATIONS, type Migration } from './migrations.js'
export { isStoreError, StoreError, type StoreErrorCode } from './store-error.js'
