/**
 * Migrations: applied once, recorded, idempotent, and safe when several
 * processes open the same fresh database at the same moment.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { assertMigrationOrder, migrate, MIGRATIONS } from './migrations.js'
import { createPgClient } from './pg-client.js'
import { openPgliteClient } from './pglite-client.js'

const allVersions = MIGRATIONS.map((migration) => migration.version)

describe('migrate on a fresh PostgreSQL database', () => {
  const name = `quire_migrate_${randomBytes(4).toString('hex')}`
  let databaseUrl: string

  const runAdmin = async (sql: string): Promise<void> => {
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') })
    await admin.connect()
    try {
      await admin.query(sql)
    } finally {
      await admin.end()
    }
  }

  beforeAll(async () => {
    await runAdmin(`CREATE DATABASE ${name}`)
    const url = new URL(inject('adminDatabaseUrl'))
    url.pathname = `/${name}`
    databaseUrl = url.toString()
  })

  afterAll(async () => {
    await runAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  })

  it('applies each migration exactly once when several processes open it at once', async () => {
    const clients = Array.from({ length: 4 }, () =>
      createPgClient({ connectionString: databaseUrl, maxConnections: 1 }),
    )

    const applied = await Promise.all(clients.map((client) => migrate(client)))
    const [first] = clients
    const recorded = await first?.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    )
    await Promise.all(clients.map((client) => client.close()))

    expect(applied.flat().sort((a, b) => a - b)).toEqual(allVersions)
    expect(recorded?.map((row) => row.version)).toEqual(allVersions)
  })
})

describe('migrate on PGlite', () => {
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'quire-migrate-'))
  })

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('applies the schema on first open and nothing on the next', async () => {
    const client = await openPgliteClient({ directory: join(dataDir, 'pglite') })

    const firstRun = await migrate(client)
    const secondRun = await migrate(client)
    const tables = await client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' ORDER BY table_name`,
    )
    await client.close()

    expect(firstRun).toEqual(allVersions)
    expect(secondRun).toEqual([])
    expect(tables.map((table) => table.name)).toEqual([
      'checkpoints',
      'dead_letters',
      'document_members',
      'documents',
      'legacy_imports',
      'organisation_members',
      'organisations',
      'retired_refresh_tokens',
      'schema_migrations',
      'sessions',
      'settings',
      'updates',
      'users',
    ])
  })
})

describe('assertMigrationOrder', () => {
  it('refuses a list with a hole in its numbering', () => {
    const broken = [
      { version: 1, name: 'one', statements: [] },
      { version: 3, name: 'three', statements: [] },
    ]

    expect(() => assertMigrationOrder(broken)).toThrow('version 3, expected 2')
  })
})
