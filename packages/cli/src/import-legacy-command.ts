/**
 * `quire import-legacy`: turns the HTML snapshots of the old design into
 * Quire documents, each once, however often it is run or interrupted (see
 * docs/ARCHITECTURE.md, legacy import). Prints a line per snapshot and a
 * final report; the exit status is 1 when any snapshot failed.
 */
import { parseArgs } from 'node:util'
import {
  createDirectorySource,
  createTableSource,
  findMissingOrganisations,
  type ImportOutcome,
  importLegacySnapshots,
  type LegacyImportReport,
  type LegacySource,
  openLegacyDatabase,
  openStoreForMaintenance,
  type OrgRule,
  parseOrgMap,
} from '@quire/server'

const HELP = `Usage: quire import-legacy (--source-url <url> | --from-dir <dir>) [options]

Imports the old design's HTML snapshots as Quire documents. Each becomes a
document whose first update and first version ("Imported from the legacy
system") hold its sanitised content; scripts, event handlers and remote
content are dropped. What was imported is recorded in the legacy_imports
table, in the same transaction as the document: running again (after a
success, a failure or a kill) imports only what is missing.

Source (one of):
  --source-url <url>       the legacy PostgreSQL; one row per document
    --table <name>         table, optionally schema.table (default documents)
    --id-column <name>     legacy document id, its primary key (default id)
    --org-column <name>    legacy organisation id (default org_id)
    --no-org-column        the table has no organisation column
    --html-column <name>   the HTML snapshot (default html)
    --updated-column <name>  last change, kept as the document's updated time
                           (default updated_at)
    --no-updated-column    the table has no such column
  --from-dir <dir>         a folder of <legacy id>.html files (not its subfolders)

Organisations (every imported document belongs to one Quire organisation):
  --org-map <pairs>        legacyOrg=quireOrgId,... : each legacy organisation's
                           documents go to the Quire organisation named for it
  --org <quireOrgId>       where every document goes that --org-map does not place
                           (with --from-dir, all of them)
  A document whose legacy organisation is in neither fails (nothing is
  guessed). Admins of the organisation own its imported documents and share
  them from the app.

Target:
  --database-url <url>     Quire's PostgreSQL (env DATABASE_URL); unset: the embedded database
  --data-dir <dir>         folder of the embedded database (env QUIRE_DATA_DIR, default ./data);
                           no node may be running on it

Other:
  --pause-ms <n>           wait after each imported document, to spare a legacy database in use
  --json                   print the final report as JSON (progress goes to stderr)

Exit status: 0 when nothing failed, 1 when a snapshot failed (the report says
why; fix it and run again) or a database failed, 2 for bad options (including
a table or column the legacy database does not have).
`

/** Options after validation. */
interface ImportCommand {
  readonly sourceUrl: string | undefined
  readonly fromDir: string | undefined
  readonly table: {
    readonly table: string
    readonly idColumn: string
    readonly orgColumn: string | null
    readonly htmlColumn: string
    readonly updatedColumn: string | null
  }
  readonly orgRule: OrgRule
  readonly pauseMs: number
  readonly json: boolean
  readonly databaseUrl: string | undefined
  readonly dataDir: string
}

const parseCommand = (argv: readonly string[]): ImportCommand | { readonly usage: string } => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'source-url': { type: 'string' },
      table: { type: 'string', default: 'documents' },
      'id-column': { type: 'string', default: 'id' },
      'org-column': { type: 'string', default: 'org_id' },
      'no-org-column': { type: 'boolean' },
      'html-column': { type: 'string', default: 'html' },
      'updated-column': { type: 'string', default: 'updated_at' },
      'no-updated-column': { type: 'boolean' },
      'from-dir': { type: 'string' },
      org: { type: 'string' },
      'org-map': { type: 'string' },
      'database-url': { type: 'string' },
      'data-dir': { type: 'string' },
      'pause-ms': { type: 'string', default: '0' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
    strict: true,
  })
  if (values.help === true) return { usage: '' }
  const sourceUrl = values['source-url']
  const fromDir = values['from-dir']
  if ((sourceUrl === undefined) === (fromDir === undefined)) {
    return { usage: 'give exactly one of --source-url and --from-dir' }
  }
  const orgMap =
    values['org-map'] === undefined ? new Map<string, string>() : parseOrgMap(values['org-map'])
  if (fromDir !== undefined && orgMap.size > 0) {
    return {
      usage: '--org-map needs a table with an organisation column; use --org with --from-dir',
    }
  }
  if (values.org === undefined && orgMap.size === 0) {
    return {
      usage: 'say where documents go: --org <quireOrgId> and/or --org-map legacyOrg=quireOrg,...',
    }
  }
  if (!/^\d{1,7}$/.test(values['pause-ms']))
    return { usage: '--pause-ms must be a whole number of ms' }
  return {
    sourceUrl,
    fromDir,
    table: {
      table: values.table,
      idColumn: values['id-column'],
      orgColumn: values['no-org-column'] === true ? null : values['org-column'],
      htmlColumn: values['html-column'],
      updatedColumn: values['no-updated-column'] === true ? null : values['updated-column'],
    },
    orgRule: { orgMap, defaultOrgId: values.org ?? null },
    pauseMs: Number(values['pause-ms']),
    json: values.json === true,
    databaseUrl: values['database-url'] ?? process.env.DATABASE_URL,
    dataDir: values['data-dir'] ?? process.env.QUIRE_DATA_DIR ?? './data',
  }
}

/** The SQLSTATE of a database error (`42P01`: no such table), or null for any other error. */
const sqlStateOf = (err: unknown): string | null => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null
}

/** One progress line: position, outcome, legacy id and what it became (never content). */
const describeOutcome = (outcome: ImportOutcome, position: number, total: number): string => {
  const at = `[${position}/${total}]`
  switch (outcome.reason) {
    case 'imported':
      return `${at} imported ${outcome.legacyId} as ${outcome.docId}`
    case 'skipped':
      return `${at} skipped ${outcome.legacyId}: imported before as ${outcome.docId}`
    case 'failed':
      return `${at} failed ${outcome.legacyId}: ${outcome.problem}`
    default: {
      const unexpected: never = outcome
      throw new Error(`unknown import outcome ${JSON.stringify(unexpected)}`)
    }
  }
}

const writeReport = (report: LegacyImportReport, json: boolean): void => {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`)
    return
  }
  const failed = report.failed.length
  process.stdout.write(`imported ${report.imported}, skipped ${report.skipped}, failed ${failed}\n`)
  for (const failure of report.failed) {
    process.stdout.write(`  failed ${failure.legacyId}: ${failure.problem}\n`)
  }
}

export const runImportLegacy = async (argv: readonly string[]): Promise<number> => {
  let command
  try {
    command = parseCommand(argv)
  } catch (err) {
    process.stderr.write(`quire import-legacy: ${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if ('usage' in command) {
    if (command.usage === '') {
      process.stdout.write(HELP)
      return 0
    }
    process.stderr.write(`quire import-legacy: ${command.usage}\n\n${HELP}`)
    return 2
  }

  const store = await openStoreForMaintenance(command)
  const legacy = command.sourceUrl === undefined ? null : openLegacyDatabase(command.sourceUrl)
  try {
    const missing = await findMissingOrganisations(store.sql, command.orgRule)
    if (missing.length > 0) {
      process.stderr.write(
        `quire import-legacy: no such Quire organisation: ${missing.join(', ')}\n`,
      )
      return 2
    }
    let source: LegacySource
    try {
      source =
        legacy === null
          ? createDirectorySource(command.fromDir as string) // parseCommand required one of the two
          : createTableSource(legacy, command.table)
    } catch (err) {
      process.stderr.write(`quire import-legacy: ${(err as Error).message}\n`)
      return 2
    }
    const progress = command.json ? process.stderr : process.stdout
    let report: LegacyImportReport
    try {
      report = await importLegacySnapshots({
        sql: store.sql,
        source,
        orgRule: command.orgRule,
        pauseMs: command.pauseMs,
        onOutcome: (outcome, position, total) =>
          progress.write(`${describeOutcome(outcome, position, total)}\n`),
      })
    } catch (err) {
      const sqlState = sqlStateOf(err)
      if (sqlState === null) throw err
      // A database answered with an error: one line, no stack. Class 42
      // (no such table or column, no permission) is the options' fault.
      process.stderr.write(`quire import-legacy: ${(err as Error).message} (${sqlState})\n`)
      return sqlState.startsWith('42') ? 2 : 1
    }
    writeReport(report, command.json)
    return report.failed.length === 0 ? 0 : 1
  } finally {
    await legacy?.close()
    await store.close()
  }
}
