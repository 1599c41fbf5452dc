/**
 * Operations an operator runs against the database of a deployment, outside
 * any node: listing and retrying dead letters, pruning history, importing
 * a legacy deployment's documents.
 */
import { createLogger } from './log/index.js'
import {
  createPgClient,
  openEmbeddedStore,
  openPostgresStore,
  type SqlClient,
  type SqlDocumentStore,
} from './store/index.js'

export {
  type DeadLetterSummary,
  listDeadLetters,
  retryDeadLetters,
  type RetryOutcome,
} from './store/dead-letters.js'
export {
  DEFAULT_RETENTION_POLICY,
  pruneHistory,
  type PrunePassSummary,
  type RetentionPolicy,
} from './store/index.js'
export {
  createDirectorySource,
  createTableSource,
  findMissingOrganisations,
  type ImportOutcome,
  importLegacySnapshots,
  type LegacyImportReport,
  type LegacySource,
  type OrgRule,
  parseOrgMap,
} from './legacy/index.js'

/**
 * Opens (and migrates) the store a node would use: PostgreSQL at
 * `databaseUrl`, or the embedded database in `dataDir`, which must not be in
 * use by a running node (it holds the folder's lock).
 */
export const openStoreForMaintenance = (options: {
  readonly databaseUrl?: string | undefined
  readonly dataDir: string
}): Promise<SqlDocumentStore> => {
  const logger = createLogger({ level: 'warn' })
  return options.databaseUrl === undefined
    ? openEmbeddedStore({ dataDir: options.dataDir, logger })
    : openPostgresStore({ databaseUrl: options.databaseUrl, logger })
}

/**
 * Opens a small pool on the legacy deployment's PostgreSQL, read only by
 * `quire import-legacy`. The caller closes it.
 */
export const openLegacyDatabase = (sourceUrl: string): SqlClient =>
  createPgClient({ connectionString: sourceUrl, maxConnections: 2 })
