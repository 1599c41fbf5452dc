/** Migration from the legacy design: its HTML snapshots become Quire documents, once. */
export {
  findMissingOrganisations,
  IMPORTED_VERSION_NAME,
  type ImportOutcome,
  importLegacySnapshots,
  type LegacyImportOptions,
  type LegacyImportReport,
  type OrgRule,
  parseOrgMap,
  resolveTargetOrg,
} from './legacy-import.js'
export {
  createDirectorySource,
  createTableSource,
  DEFAULT_LEGACY_TABLE_OPTIONS,
  type LegacySnapshot,
  type LegacySource,
  type LegacySourceKind,
  type LegacyTableOptions,
  quoteIdentifier,
  quoteTableName,
} from './legacy-source.js'
