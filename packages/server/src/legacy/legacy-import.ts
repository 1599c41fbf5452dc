/**
 * Migration of a legacy deployment: each HTML snapshot of the old design
 * becomes a Quire document whose first update (seq 1) and first version (a
 * named checkpoint at seq 1) hold its sanitised content.
 *
 * Exactly once, however often it runs or is killed: the document row, its
 * first update, its first version and the `legacy_imports` record of the
 * snapshot are written in one transaction, so an interruption leaves all
 * four or none, and the record's primary key (source kind, legacy id)
 * refuses a second import, even by two runs at once. The content lives on
 * the server as the document's log, never as a seed a client would insert,
 * so any number of clients opening a migrated document at once load the
 * same single copy.
 */
import type { Node as ProseMirrorNode } from '@tiptap/pm/model'
import * as Y from 'yjs'
import { createId } from '../auth/index.js'
import {
  firstHeadingText,
  htmlToNode,
  isContentError,
  nodeToHtml,
  nodeToUpdate,
} from '../content/index.js'
import type { SqlClient } from '../store/index.js'
import type { LegacySnapshot, LegacySource, LegacySourceKind } from './legacy-source.js'

/** Name of the first version of every imported document, as the history panel lists it. */
export const IMPORTED_VERSION_NAME = 'Imported from the legacy system'

/** Longest title given to an imported document (the API's own limit). */
const MAX_TITLE_CHARS = 200

/**
 * Which Quire organisation a legacy document goes to: its legacy
 * organisation's entry in `orgMap` when there is one, else `defaultOrgId`;
 * a snapshot that matches neither fails (nothing is guessed).
 */
export interface OrgRule {
  /** legacy organisation id → Quire organisation id (`--org-map`). */
  readonly orgMap: ReadonlyMap<string, string>
  /** Where every other snapshot goes (`--org`), or null for nowhere. */
  readonly defaultOrgId: string | null
}

/** The Quire organisation for `legacyOrgId` under `rule`, or why there is none. */
export const resolveTargetOrg = (
  rule: OrgRule,
  legacyOrgId: string | null,
):
  | { readonly ok: true; readonly orgId: string }
  | { readonly ok: false; readonly problem: string } => {
  const mapped = legacyOrgId === null ? undefined : rule.orgMap.get(legacyOrgId)
  const orgId = mapped ?? rule.defaultOrgId
  if (orgId !== null) return { ok: true, orgId }
  return {
    ok: false,
    problem:
      legacyOrgId === null
        ? 'no organisation: give --org'
        : `legacy organisation ${legacyOrgId} is not in --org-map and no --org was given`,
  }
}

/**
 * Parses `--org-map`: comma-separated `legacyOrg=quireOrg` pairs. Throws a
 * `RangeError` naming the first malformed or repeated entry.
 */
export const parseOrgMap = (text: string): Map<string, string> => {
  const map = new Map<string, string>()
  for (const entry of text.split(',')) {
    const at = entry.indexOf('=')
    const legacy = entry.slice(0, at).trim()
    const quire = entry.slice(at + 1).trim()
    if (at < 0 || legacy === '' || quire === '') {
      throw new RangeError(`--org-map entry ${JSON.stringify(entry)} is not legacyOrg=quireOrg`)
    }
    if (map.has(legacy)) throw new RangeError(`--org-map names legacy organisation ${legacy} twice`)
    map.set(legacy, quire)
  }
  return map
}

/** The Quire organisation ids of `rule` that do not exist in `sql`'s database. */
export const findMissingOrganisations = async (
  sql: SqlClient,
  rule: OrgRule,
): Promise<string[]> => {
  const wanted = [
    ...new Set([
      ...rule.orgMap.values(),
      ...(rule.defaultOrgId === null ? [] : [rule.defaultOrgId]),
    ]),
  ]
  const rows = await sql.query<{ id: string }>(
    'SELECT id FROM organisations WHERE id = ANY($1::text[])',
    [wanted],
  )
  const found = new Set(rows.map((row) => row.id))
  return wanted.filter((id) => !found.has(id)).sort()
}

/** What became of one snapshot. */
export type ImportOutcome =
  | { readonly reason: 'imported'; readonly legacyId: string; readonly docId: string }
  /** Imported before (by an earlier or a concurrent run): nothing was written. */
  | { readonly reason: 'skipped'; readonly legacyId: string; readonly docId: string }
  /** Not imported; `problem` says why, without content. A later run tries it again. */
  | { readonly reason: 'failed'; readonly legacyId: string; readonly problem: string }

/** Totals of one run. */
export interface LegacyImportReport {
  readonly imported: number
  readonly skipped: number
  readonly failed: readonly { readonly legacyId: string; readonly problem: string }[]
}

/** Options of `importLegacySnapshots`. */
export interface LegacyImportOptions {
  /** The Quire database the documents go to; the caller owns it. */
  readonly sql: SqlClient
  readonly source: LegacySource
  readonly orgRule: OrgRule
  /** Told of each snapshot's outcome, with its position and the source's count at the start. */
  readonly onOutcome?: (outcome: ImportOutcome, position: number, total: number) => void
  /** Wait between snapshots, ms, to spare a legacy database in use. @default 0 */
  readonly pauseMs?: number
}

/**
 * Imports every snapshot of `options.source` that is not imported yet, one
 * after the other, and resolves with the totals. A snapshot that cannot be
 * converted or placed (no HTML, HTML the converter refuses, an unmapped
 * organisation) is reported as failed and the run goes on. Rejects when a
 * database fails (source or target): what was imported so far stays, and
 * the next run resumes after it.
 */
export const importLegacySnapshots = async (
  options: LegacyImportOptions,
): Promise<LegacyImportReport> => {
  const { sql, source, orgRule, onOutcome, pauseMs = 0 } = options
  const total = await source.count()
  let imported = 0
  let skipped = 0
  const failed: { legacyId: string; problem: string }[] = []
  let position = 0
  for await (const snapshot of source.read()) {
    const outcome = await importSnapshot(sql, source.kind, snapshot, orgRule)
    position++
    if (outcome.reason === 'imported') imported++
    else if (outcome.reason === 'skipped') skipped++
    else failed.push({ legacyId: outcome.legacyId, problem: outcome.problem })
    onOutcome?.(outcome, position, total)
    if (pauseMs > 0 && outcome.reason === 'imported') {
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }
  return { imported, skipped, failed }
}

/** The document a snapshot was imported as, or null. */
const findImported = async (
  sql: SqlClient,
  kind: LegacySourceKind,
  legacyId: string,
): Promise<string | null> => {
  const [row] = await sql.query<{ docId: string }>(
    'SELECT doc_id AS "docId" FROM legacy_imports WHERE source_kind = $1 AND legacy_id = $2',
    [kind, legacyId],
  )
  return row?.docId ?? null
}

/** Thrown inside the write transaction to roll it back when another run imported the snapshot first. */
class AlreadyImported extends Error {}

/** Imports one snapshot; rejects only when a database fails. */
export const importSnapshot = async (
  sql: SqlClient,
  kind: LegacySourceKind,
  snapshot: LegacySnapshot,
  orgRule: OrgRule,
): Promise<ImportOutcome> => {
  const { legacyId } = snapshot
  const earlier = await findImported(sql, kind, legacyId)
  if (earlier !== null) return { reason: 'skipped', legacyId, docId: earlier }
  if (snapshot.html === null) {
    return { reason: 'failed', legacyId, problem: snapshot.readProblem ?? 'no HTML (NULL)' }
  }
  const target = resolveTargetOrg(orgRule, snapshot.legacyOrgId)
  if (!target.ok) return { reason: 'failed', legacyId, problem: target.problem }
  const converted = convertSnapshot(snapshot.html, legacyId)
  if (!converted.ok) return { reason: 'failed', legacyId, problem: converted.problem }

  const docId = createId()
  try {
    await sql.transaction((tx) =>
      writeImportedDocument(tx, { kind, snapshot, docId, orgId: target.orgId, ...converted }),
    )
    return { reason: 'imported', legacyId, docId }
  } catch (err) {
    if (isRefusedValue(err)) {
      // This snapshot's values, not the database, are at fault: the
      // transaction rolled back and the run goes on.
      return { reason: 'failed', legacyId, problem: `the database refused it (${err.code})` }
    }
    if (!(err instanceof AlreadyImported)) throw err
    const winner = await findImported(sql, kind, legacyId)
    return { reason: 'skipped', legacyId, docId: winner ?? docId }
  }
}

/**
 * Whether `err` is PostgreSQL refusing one row's values rather than failing
 * as a database: SQLSTATE class 22 (data exception: a character text cannot
 * hold, a value out of range) or 54 (program limit: a row too large).
 */
const isRefusedValue = (err: unknown): err is { readonly code: string } => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code)
}

/** A converted snapshot: its first update, the HTML rendering of its version, its title. */
interface ConvertedSnapshot {
  readonly update: Uint8Array
  readonly html: string
  readonly title: string
}

/**
 * Sanitises and converts `html` through the document schema. Failures are
 * values with the converter's code and message (never the content).
 */
const convertSnapshot = (
  html: string,
  legacyId: string,
):
  | ({ readonly ok: true } & ConvertedSnapshot)
  | { readonly ok: false; readonly problem: string } => {
  // Everything the snapshot's content goes through is inside: whatever it
  // makes fail (a parser, the renderer) fails this snapshot, not the run.
  try {
    const node: ProseMirrorNode = htmlToNode(html)
    const heading = firstHeadingText(node)?.replace(/[\u0000-\u001f\u007f]+/g, ' ')
    const title = (heading ?? `Imported document ${legacyId}`).slice(0, MAX_TITLE_CHARS)
    return { ok: true, update: nodeToUpdate(node), html: nodeToHtml(node), title }
  } catch (err) {
    if (isContentError(err)) return { ok: false, problem: `${err.code}: ${err.message}` }
    return { ok: false, problem: `conversion failed: ${(err as Error).message}` }
  }
}

/**
 * Writes the document row, its update 1, its first version and the import
 * record, in the caller's transaction. The record goes last and throws
 * `AlreadyImported` when a concurrent run's record is there: the unique
 * key waits for that run to commit, then the whole transaction rolls back.
 */
const writeImportedDocument = async (
  tx: SqlClient,
  item: ConvertedSnapshot & {
    readonly kind: LegacySourceKind
    readonly snapshot: LegacySnapshot
    readonly docId: string
    readonly orgId: string
  },
): Promise<void> => {
  const { docId, update } = item
  await tx.query(
    `INSERT INTO documents (id, org_id, title, updated_at, last_seq, last_checkpoint_seq, last_checkpoint_at)
       VALUES ($1, $2, $3, COALESCE($4, now()), 1, 1, now())`,
    [docId, item.orgId, item.title, item.snapshot.updatedAt],
  )
  // The bus id is the import key: unique per document like any other.
  await tx.query(
    `INSERT INTO updates (doc_id, seq, data, user_id, conn_id, received_at, bus_id)
       VALUES ($1, 1, $2, NULL, NULL, now(), $3)`,
    [docId, update, `legacy:${item.kind}:${item.snapshot.legacyId}`],
  )
  // An update made from an empty document is its full state.
  await tx.query(
    `INSERT INTO checkpoints (doc_id, seq, state, state_vector, html, name)
       VALUES ($1, 1, $2, $3, $4, $5)`,
    [docId, update, Y.encodeStateVectorFromUpdate(update), item.html, IMPORTED_VERSION_NAME],
  )
  const recorded = await tx.query(
    `INSERT INTO legacy_imports (source_kind, legacy_id, doc_id) VALUES ($1, $2, $3)
       ON CONFLICT (source_kind, legacy_id) DO NOTHING RETURNING doc_id`,
    [item.kind, item.snapshot.legacyId, docId],
  )
  if (recorded.length === 0) throw new AlreadyImported(item.snapshot.legacyId)
}
