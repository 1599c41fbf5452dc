/**
 * Where the old design's HTML snapshots come from: a PostgreSQL table (one
 * row per document: id, organisation, HTML, updated time; every name is an
 * option) or a folder of `.html` files (file name = legacy id). Both are
 * read as a stream of snapshots in a stable order, a page at a time, so a
 * table of any size is never held in memory.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { SqlClient } from '../store/index.js'

/** Which kind of source a snapshot came from; part of its import key. */
export type LegacySourceKind = 'table' | 'dir'

/** One legacy document as its source holds it; untrusted until converted. */
export interface LegacySnapshot {
  readonly legacyId: string
  /** The legacy organisation id, or null when the source has none (a folder, no org column). */
  readonly legacyOrgId: string | null
  /** Null when the source row has no HTML (a malformed row) or the file could not be read. */
  readonly html: string | null
  readonly updatedAt: Date | null
  /** Why the snapshot could not be read, when it could not (the importer reports it as failed). */
  readonly readProblem?: string
}

/** A readable source of snapshots. */
export interface LegacySource {
  readonly kind: LegacySourceKind
  /** How many snapshots the source holds now (for progress). */
  count(): Promise<number>
  /** Every snapshot, in legacy id order. */
  read(): AsyncIterable<LegacySnapshot>
}

/** Column and table names of a legacy table; each may be schema-qualified where it makes sense. */
export interface LegacyTableOptions {
  /** The table, optionally `schema.table`. @default 'documents' */
  readonly table?: string
  /** @default 'id' */
  readonly idColumn?: string
  /** The organisation column; none when the table has no organisations. @default 'org_id' */
  readonly orgColumn?: string | null
  /** @default 'html' */
  readonly htmlColumn?: string
  /** None when the table has no such column. @default 'updated_at' */
  readonly updatedColumn?: string | null
  /** Rows read per query. @default 100 */
  readonly pageRows?: number
}

/** Defaults of `LegacyTableOptions`. */
export const DEFAULT_LEGACY_TABLE_OPTIONS = Object.freeze({
  table: 'documents',
  idColumn: 'id',
  orgColumn: 'org_id',
  htmlColumn: 'html',
  updatedColumn: 'updated_at',
  pageRows: 100,
})

/**
 * Quotes one SQL identifier: wrapped in double quotes with inner quotes
 * doubled, so any name (mixed case, spaces, keywords) is taken literally
 * and nothing in it can end the identifier. Throws on an empty name or a
 * NUL character, which PostgreSQL cannot hold.
 */
export const quoteIdentifier = (name: string): string => {
  if (name === '' || name.includes('\u0000')) {
    throw new RangeError(`not a usable SQL identifier: ${JSON.stringify(name)}`)
  }
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * Quotes a table name that may name its schema (`schema.table`). A name
 * whose parts contain a dot cannot be written this way; such a table
 * needs renaming (or a view) first.
 */
export const quoteTableName = (name: string): string => {
  const parts = name.split('.')
  if (parts.length > 2) throw new RangeError(`not a table name: ${JSON.stringify(name)}`)
  return parts.map(quoteIdentifier).join('.')
}

/**
 * A source over a legacy table on `client` (which the caller owns and
 * closes). Rows are read in pages ordered by the id column in its own
 * type, each page after the last id of the previous one, so the id column
 * should be indexed (it is the legacy primary key). Values are read as
 * text (`::text`), whatever their type.
 */
export const createTableSource = (
  client: SqlClient,
  options: LegacyTableOptions = {},
): LegacySource => {
  const table = quoteTableName(options.table ?? DEFAULT_LEGACY_TABLE_OPTIONS.table)
  const id = quoteIdentifier(options.idColumn ?? DEFAULT_LEGACY_TABLE_OPTIONS.idColumn)
  const orgName =
    options.orgColumn === undefined ? DEFAULT_LEGACY_TABLE_OPTIONS.orgColumn : options.orgColumn
  const updatedName =
    options.updatedColumn === undefined
      ? DEFAULT_LEGACY_TABLE_OPTIONS.updatedColumn
      : options.updatedColumn
  const org = orgName === null ? 'NULL' : `${quoteIdentifier(orgName)}::text`
  const html = `${quoteIdentifier(options.htmlColumn ?? DEFAULT_LEGACY_TABLE_OPTIONS.htmlColumn)}::text`
  const updated = updatedName === null ? 'NULL' : `${quoteIdentifier(updatedName)}::timestamptz`
  const pageRows = options.pageRows ?? DEFAULT_LEGACY_TABLE_OPTIONS.pageRows
  const columns = `${id}::text AS "legacyId", ${org} AS "legacyOrgId", ${html} AS html, ${updated} AS "updatedAt"`

  return {
    kind: 'table',
    async count() {
      const [row] = await client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${table} WHERE ${id} IS NOT NULL`,
      )
      return row?.count ?? 0
    },
    async *read() {
      // The last id goes back as text and PostgreSQL casts it to the
      // column's type, so the order and the comparison are the column's own.
      let page = await client.query<LegacySnapshot>(
        `SELECT ${columns} FROM ${table} WHERE ${id} IS NOT NULL ORDER BY ${id} LIMIT $1`,
        [pageRows],
      )
      for (;;) {
        yield* page
        const last = page.at(-1)
        if (last === undefined || page.length < pageRows) return
        page = await client.query<LegacySnapshot>(
          `SELECT ${columns} FROM ${table} WHERE ${id} > $1 ORDER BY ${id} LIMIT $2`,
          [last.legacyId, pageRows],
        )
      }
    },
  }
}

/** The legacy id of a snapshot file: its name without `.html`, or null for any other file. */
const legacyIdOfFile = (name: string): string | null =>
  extname(name).toLowerCase() === '.html' && name.length > '.html'.length
    ? name.slice(0, -'.html'.length)
    : null

/**
 * A source over a folder of `<legacy id>.html` files (not its subfolders;
 * other files are ignored), in file name order, each read as UTF-8 when
 * its turn comes. The updated time is the file's modification time. A
 * file that cannot be read becomes a snapshot without HTML and with a
 * `readProblem`, so it is reported as failed and the others go on.
 */
export const createDirectorySource = (directory: string): LegacySource => {
  const listFiles = async (): Promise<string[]> => {
    const entries = await readdir(directory, { withFileTypes: true })
    return entries
      .filter((entry) => entry.isFile() && legacyIdOfFile(entry.name) !== null)
      .map((entry) => entry.name)
      .sort()
  }
  return {
    kind: 'dir',
    count: async () => (await listFiles()).length,
    async *read() {
      for (const name of await listFiles()) {
        const legacyId = legacyIdOfFile(name) as string // listFiles kept only snapshot files
        const path = join(directory, name)
        try {
          const [html, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
          yield { legacyId, legacyOrgId: null, html, updatedAt: info.mtime }
        } catch (err) {
          const code = (err as { code?: unknown }).code
          const readProblem = `file could not be read (${typeof code === 'string' ? code : 'error'})`
          yield { legacyId, legacyOrgId: null, html: null, updatedAt: null, readProblem }
        }
      }
    },
  }
}
