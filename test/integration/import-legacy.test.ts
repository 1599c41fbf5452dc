/**
 * `quire import-legacy` against a real PostgreSQL (STORE-5): a legacy
 * table (created in the test database, with awkward column names) and a
 * folder of .html files become documents once each, however often the
 * command runs, is killed midway or runs twice at once; malformed
 * snapshots are reported and the rest import; and two reference clients
 * opening a migrated document at once see its text exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { migrate, openPgliteClient } from '../../packages/server/src/store/index.js'
import { connectProvider } from '../support/clients.js'
import { makeTempDir, REPO_ROOT, startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

interface Run {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly exited: Promise<number | null>
}

const startQuire = (args: readonly string[]): Run => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), ...args],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stdout = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return { child, stdout: () => stdout, exited }
}

const runQuire = async (
  args: readonly string[],
): Promise<{ code: number | null; stdout: string }> => {
  const run = startQuire(args)
  const code = await run.exited
  return { code, stdout: run.stdout() }
}

/** Counts the lines of `output` that say a snapshot was imported. */
const importedLines = (output: string): number =>
  output.split('\n').filter((line) => /\] imported \S+ as /.test(line)).length

describe('quire import-legacy', () => {
  let server: TestServer
  let db: pg.Client
  let databaseUrl: string
  const tag = randomBytes(3).toString('hex')
  const orgs = { a: `org-a-${tag}`, b: `org-b-${tag}`, resume: `org-r-${tag}`, dir: `org-d-${tag}` }

  /** Creates a legacy table with the old design's columns under awkward names. */
  const createLegacyTable = async (name: string): Promise<void> => {
    await db.query(`CREATE TABLE "${name}" (
      "Doc ID" text PRIMARY KEY,
      "org" text,
      "body" text,
      "changed at" timestamptz
    )`)
  }

  const insertRow = async (
    table: string,
    id: string,
    org: string | null,
    html: string | null,
  ): Promise<void> => {
    await db.query(
      `INSERT INTO "${table}" ("Doc ID", "org", "body", "changed at") VALUES ($1, $2, $3, now() - interval '2 years')`,
      [id, org, html],
    )
  }

  const tableArgs = (table: string): string[] => [
    'import-legacy',
    '--source-url',
    databaseUrl,
    '--table',
    `public.${table}`,
    '--id-column',
    'Doc ID',
    '--org-column',
    'org',
    '--html-column',
    'body',
    '--updated-column',
    'changed at',
    '--database-url',
    databaseUrl,
  ]

  /** The document a legacy snapshot became, from the import record. */
  const importedDocument = async (kind: string, legacyId: string): Promise<string | undefined> =>
    (
      await db.query<{ docId: string }>(
        'SELECT doc_id AS "docId" FROM legacy_imports WHERE source_kind = $1 AND legacy_id = $2',
        [kind, legacyId],
      )
    ).rows[0]?.docId

  const storedContent = async (docId: string): Promise<string> => {
    const { rows } = await db.query<{ data: Buffer }>(
      'SELECT data FROM updates WHERE doc_id = $1 ORDER BY seq',
      [docId],
    )
    const doc = new Y.Doc()
    for (const row of rows) Y.applyUpdate(doc, new Uint8Array(row.data))
    return doc.getXmlFragment('default').toString()
  }

  beforeAll(async () => {
    // A node migrates the database and serves the migrated documents.
    server = await startTestServer({ store: 'postgres' })
    databaseUrl = server.databaseUrl as string
    db = new pg.Client({ connectionString: databaseUrl })
    await db.connect()
    for (const id of Object.values(orgs)) {
      await db.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [id, id])
    }
  })
  afterAll(async () => {
    await db.end()
    await server.dispose()
  })

  it('imports each row once, reports malformed rows, and a second run imports nothing', async () => {
    const table = `legacy_${tag}`
    await createLegacyTable(table)
    for (let n = 1; n <= 6; n++) {
      await insertRow(
        table,
        `${tag}-${n}`,
        n % 2 === 0 ? 'legacy-even' : 'legacy-odd',
        `<h1>Title ${n}</h1><p>Body ${n} <b>bold</b></p><script>alert(${n})</script>` +
          `<p onclick="steal()">click <img src="https://evil.example/x.png"></p>`,
      )
    }
    await insertRow(table, `${tag}-null`, 'legacy-odd', null)
    await insertRow(table, `${tag}-unmapped`, 'legacy-gone', '<p>nobody maps me</p>')
    await insertRow(table, `${tag}-huge`, 'legacy-odd', `<p>${'x'.repeat(3 * 1024 * 1024)}</p>`)
    const args = [...tableArgs(table), '--org-map', `legacy-odd=${orgs.a},legacy-even=${orgs.b}`]

    const first = await runQuire(args)

    expect(first.code).toBe(1)
    expect(first.stdout).toContain('imported 6, skipped 0, failed 3')
    expect(first.stdout).toMatch(new RegExp(`failed ${tag}-null: no HTML`))
    expect(first.stdout).toMatch(
      new RegExp(`failed ${tag}-unmapped: legacy organisation legacy-gone is not in --org-map`),
    )
    expect(first.stdout).toMatch(new RegExp(`failed ${tag}-huge: CONTENT_TOO_LARGE`))
    expect(first.stdout).toMatch(/\[9\/9\]/)
    const docId = await importedDocument('table', `${tag}-3`)
    if (docId === undefined) throw new Error('row 3 was not recorded')
    const content = await storedContent(docId)
    expect(content).toContain('Body 3')
    expect(content).not.toMatch(/script|alert|onclick|steal|evil|img/)
    const { rows: documents } = await db.query<{
      orgId: string
      title: string
      lastSeq: string
      updatedAt: Date
    }>(
      `SELECT org_id AS "orgId", title, last_seq AS "lastSeq", updated_at AS "updatedAt"
         FROM documents WHERE id = $1`,
      [docId],
    )
    expect(documents[0]).toMatchObject({ orgId: orgs.a, title: 'Title 3', lastSeq: '1' })
    expect(documents[0]?.updatedAt.getTime()).toBeLessThan(Date.now() - 365 * 86_400_000)
    expect(
      await db.query('SELECT seq, name FROM checkpoints WHERE doc_id = $1', [docId]),
    ).toMatchObject({
      rows: [{ seq: '1', name: 'Imported from the legacy system' }],
    })
    const evenDoc = await importedDocument('table', `${tag}-2`)
    const { rows: even } = await db.query('SELECT org_id FROM documents WHERE id = $1', [evenDoc])
    expect(even).toEqual([{ org_id: orgs.b }])

    const second = await runQuire(args)

    expect(second.code).toBe(1)
    expect(second.stdout).toContain('imported 0, skipped 6, failed 3')
    const { rows: records } = await db.query(
      `SELECT 1 FROM legacy_imports WHERE source_kind = 'table' AND legacy_id LIKE $1`,
      [`${tag}-%`],
    )
    expect(records).toHaveLength(6)
  })

  it('shows a migrated document exactly once to two clients opening it at once', async () => {
    const docId = await importedDocument('table', `${tag}-5`)
    if (docId === undefined) throw new Error('row 5 was not imported by the previous test')
    const [first, second] = await Promise.all([
      connectProvider(server.wsUrl, docId),
      connectProvider(server.wsUrl, docId),
    ])
    try {
      for (const client of [first, second]) {
        const text = client.doc.getXmlFragment('default').toString()
        expect(text.match(/Body 5/g)).toHaveLength(1)
        expect(text.match(/Title 5/g)).toHaveLength(1)
      }
      // Each edits; both converge on one copy plus both edits.
      const length = first.doc.getXmlFragment('default').length
      first.doc.getXmlFragment('default').insert(0, [new Y.XmlText('A')])
      second.doc.getXmlFragment('default').insert(0, [new Y.XmlText('B')])
      await waitUntil(
        () =>
          first.doc.getXmlFragment('default').toString() ===
            second.doc.getXmlFragment('default').toString() &&
          first.doc.getXmlFragment('default').length === length + 2,
        'both edits on both clients',
      )
      expect(
        first.doc
          .getXmlFragment('default')
          .toString()
          .match(/Body 5/g),
      ).toHaveLength(1)
    } finally {
      first.destroy()
      second.destroy()
    }
  })

  it('resumes a killed run, even as two runs at once, with exactly one document per row', async () => {
    const table = `legacy_resume_${tag}`
    await createLegacyTable(table)
    const rowCount = 40
    for (let n = 1; n <= rowCount; n++) {
      await insertRow(table, `${tag}-r${String(n).padStart(2, '0')}`, 'x', `<p>row ${n}</p>`)
    }
    const args = [...tableArgs(table), '--org', orgs.resume]

    // Killed with SIGKILL mid-way: no chance to clean up.
    const killed = startQuire([...args, '--pause-ms', '50'])
    await waitUntil(() => importedLines(killed.stdout()) >= 5, 'five rows imported', 30_000)
    killed.child.kill('SIGKILL')
    await killed.exited
    const countDocuments = async (): Promise<number> =>
      Number(
        (
          await db.query<{ count: string }>(
            'SELECT count(*) AS count FROM documents WHERE org_id = $1',
            [orgs.resume],
          )
        ).rows[0]?.count,
      )
    const afterKill = await countDocuments()
    expect(afterKill).toBeGreaterThanOrEqual(5)
    expect(afterKill).toBeLessThan(rowCount)

    // Two resumed runs at once: together they import the rest, once.
    const [resumedA, resumedB] = await Promise.all([runQuire(args), runQuire(args)])
    expect([resumedA.code, resumedB.code]).toEqual([0, 0])
    expect(importedLines(resumedA.stdout) + importedLines(resumedB.stdout)).toBe(
      rowCount - afterKill,
    )
    expect(await countDocuments()).toBe(rowCount)
    const { rows } = await db.query<{ legacyId: string; count: string }>(
      `SELECT li.legacy_id AS "legacyId", count(*) AS count
         FROM legacy_imports li JOIN documents d ON d.id = li.doc_id
        WHERE li.source_kind = 'table' AND li.legacy_id LIKE $1 AND d.org_id = $2
        GROUP BY li.legacy_id`,
      [`${tag}-r%`, orgs.resume],
    )
    expect(rows).toHaveLength(rowCount)
    expect(rows.every((row) => row.count === '1')).toBe(true)

    const again = await runQuire(args)
    expect(again.stdout).toContain(`imported 0, skipped ${rowCount}, failed 0`)
  })

  it('imports a folder of .html files into the organisation given', async () => {
    const folder = await makeTempDir('legacy')
    try {
      await writeFile(join(folder.path, `${tag}-alpha.html`), '<h2>Alpha</h2><p>first</p>')
      await writeFile(
        join(folder.path, `${tag}-beta.html`),
        '<p>second <a href="javascript:x()">link</a></p>',
      )
      await writeFile(join(folder.path, 'notes.txt'), 'not a snapshot')
      const args = ['import-legacy', '--from-dir', folder.path, '--org', orgs.dir, '--json']
      args.push('--database-url', databaseUrl)

      const first = await runQuire(args)
      expect(first.code).toBe(0)
      expect(JSON.parse(first.stdout.trim().split('\n').at(-1) ?? '')).toEqual({
        imported: 2,
        skipped: 0,
        failed: [],
      })
      const alpha = await importedDocument('dir', `${tag}-alpha`)
      const beta = await importedDocument('dir', `${tag}-beta`)
      expect(await storedContent(alpha as string)).toContain('first')
      expect(await storedContent(beta as string)).not.toContain('javascript')
      const { rows } = await db.query('SELECT title FROM documents WHERE id = $1', [alpha])
      expect(rows).toEqual([{ title: 'Alpha' }])

      const second = await runQuire(args)
      expect(JSON.parse(second.stdout.trim().split('\n').at(-1) ?? '')).toMatchObject({
        imported: 0,
        skipped: 2,
      })
    } finally {
      await folder.remove()
    }
  })

  it('reports a snapshot it cannot convert as failed and goes on; NUL bytes are dropped', async () => {
    const folder = await makeTempDir('legacy-odd')
    try {
      await writeFile(join(folder.path, `${tag}-a.html`), '<p>first</p>')
      await writeFile(
        join(folder.path, `${tag}-b.html`),
        '<h1>T\u0000itle</h1><p>nul\u0000byte</p>',
      )
      await writeFile(join(folder.path, `${tag}-c.html`), '<blockquote>'.repeat(5_000))
      await writeFile(join(folder.path, `${tag}-d.html`), '<p>after</p>')
      const args = ['import-legacy', '--from-dir', folder.path, '--org', orgs.dir, '--json']
      args.push('--database-url', databaseUrl)

      const run = await runQuire(args)

      expect(run.code).toBe(1)
      expect(run.stdout).not.toMatch(/\n\s+at /)
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as unknown
      expect(report).toEqual({
        imported: 3,
        skipped: 0,
        failed: [{ legacyId: `${tag}-c`, problem: expect.stringContaining('CONTENT_TOO_DEEP') }],
      })
      const nul = await importedDocument('dir', `${tag}-b`)
      expect(await storedContent(nul as string)).toContain('nulbyte')
      const { rows } = await db.query('SELECT title FROM documents WHERE id = $1', [nul])
      expect(rows).toEqual([{ title: 'Title' }])
      expect(await importedDocument('dir', `${tag}-d`)).toBeDefined()
    } finally {
      await folder.remove()
    }
  })

  it('names a legacy table that does not exist in one line, with status 2', async () => {
    const run = await runQuire([
      'import-legacy',
      '--source-url',
      databaseUrl,
      '--table',
      `no_such_table_${tag}`,
      '--org',
      orgs.a,
      '--database-url',
      databaseUrl,
    ])
    expect(run.code).toBe(2)
    expect(run.stdout.trim()).toMatch(/^quire import-legacy: .*no_such_table.*\(42P01\)$/)
  })

  it('imports into the embedded database (--data-dir)', async () => {
    const folder = await makeTempDir('legacy-embedded')
    try {
      const dataDir = join(folder.path, 'data')
      const snapshots = join(folder.path, 'snapshots')
      await mkdir(snapshots)
      await writeFile(join(snapshots, 'only.html'), '<p>embedded</p>')
      const setup = await openPgliteClient({ directory: join(dataDir, 'pglite') })
      await migrate(setup)
      await setup.query("INSERT INTO organisations (id, name) VALUES ('org-e', 'E')")
      await setup.close()
      const args = ['import-legacy', '--from-dir', snapshots, '--org', 'org-e']
      args.push('--data-dir', dataDir)

      const run = await runQuire(args)

      expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('imported 1,') })
      const check = await openPgliteClient({ directory: join(dataDir, 'pglite') })
      try {
        const rows = await check.query<{ orgId: string; lastSeq: number }>(
          `SELECT d.org_id AS "orgId", d.last_seq AS "lastSeq"
             FROM legacy_imports li JOIN documents d ON d.id = li.doc_id`,
        )
        expect(rows).toEqual([{ orgId: 'org-e', lastSeq: 1 }])
      } finally {
        await check.close()
      }
    } finally {
      await folder.remove()
    }
  })

  it('refuses unclear options and unknown organisations with status 2', async () => {
    expect(
      (
        await runQuire([
          'import-legacy',
          '--from-dir',
          '/tmp',
          '--org',
          'x',
          '--source-url',
          databaseUrl,
        ])
      ).code,
    ).toBe(2)
    expect((await runQuire(['import-legacy', '--from-dir', '/tmp'])).code).toBe(2)
    const unknown = await runQuire([
      'import-legacy',
      '--from-dir',
      '/tmp',
      '--org',
      'no-such-org',
      '--database-url',
      databaseUrl,
    ])
    expect(unknown.code).toBe(2)
    expect(unknown.stdout).toContain('no such Quire organisation: no-such-org')
  })
})
