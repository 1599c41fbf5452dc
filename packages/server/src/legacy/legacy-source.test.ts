/**
 * Legacy snapshot sources: a table read page by page in its id column's own
 * order (numbers as numbers), with names that need quoting, and a folder of
 * .html files.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createPgClient, type SqlClient } from '../store/index.js'
import { createDirectorySource, createTableSource, type LegacySnapshot } from './legacy-source.js'

const readAll = async (source: AsyncIterable<LegacySnapshot>): Promise<LegacySnapshot[]> => {
  const snapshots: LegacySnapshot[] = []
  for await (const snapshot of source) snapshots.push(snapshot)
  return snapshots
}

describe('createTableSource on PostgreSQL', () => {
  let client: SqlClient
  const table = `Legacy "Docs" ${randomBytes(3).toString('hex')}`
  const quoted = `"${table.replaceAll('"', '""')}"`

  beforeAll(async () => {
    client = createPgClient({ connectionString: inject('databaseUrl'), maxConnections: 2 })
    await client.query(
      `CREATE TABLE ${quoted} (num integer PRIMARY KEY, "Org Id" integer, page text, touched timestamp)`,
    )
    for (let n = 1; n <= 11; n++) {
      await client.query(`INSERT INTO ${quoted} VALUES ($1, $2, $3, $4)`, [
        n,
        n % 3,
        n === 4 ? null : `<p>${n}</p>`,
        new Date(Date.UTC(2020, 0, n)),
      ])
    }
  })
  afterAll(async () => {
    await client.query(`DROP TABLE IF EXISTS ${quoted}`)
    await client.close()
  })

  it('reads every row once, in the id column order, a page at a time', async () => {
    const source = createTableSource(client, {
      table,
      idColumn: 'num',
      orgColumn: 'Org Id',
      htmlColumn: 'page',
      updatedColumn: 'touched',
      pageRows: 3,
    })

    const snapshots = await readAll(source.read())

    expect(await source.count()).toBe(11)
    expect(snapshots.map((snapshot) => snapshot.legacyId)).toEqual(
      Array.from({ length: 11 }, (_, index) => String(index + 1)),
    )
    expect(snapshots[9]).toMatchObject({ legacyOrgId: '1', html: '<p>10</p>' })
    expect(snapshots[3]?.html).toBeNull()
    expect(snapshots[0]?.updatedAt).toBeInstanceOf(Date)
  })

  it('reads a table without organisation and time columns', async () => {
    const source = createTableSource(client, {
      table,
      idColumn: 'num',
      orgColumn: null,
      htmlColumn: 'page',
      updatedColumn: null,
    })
    const [first] = await readAll(source.read())
    expect(first).toEqual({ legacyId: '1', legacyOrgId: null, html: '<p>1</p>', updatedAt: null })
  })
})

describe('createDirectorySource', () => {
  let directory: string

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'quire-legacy-'))
    await writeFile(join(directory, 'b.html'), '<p>b</p>')
    await writeFile(join(directory, 'a.HTML'), '<p>a</p>')
    await writeFile(join(directory, '.html'), 'no name')
    await writeFile(join(directory, 'c.txt'), 'not a snapshot')
  })
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true })
  })

  it('reads the .html files in name order, their names as legacy ids', async () => {
    const source = createDirectorySource(directory)
    const snapshots = await readAll(source.read())
    expect(await source.count()).toBe(2)
    expect(snapshots.map((snapshot) => [snapshot.legacyId, snapshot.html])).toEqual([
      ['a', '<p>a</p>'],
      ['b', '<p>b</p>'],
    ])
  })
})
