/**
 * Creates one PostgreSQL database for the whole test run and drops it after,
 * so runs never see each other's data. Tests reach it through
 * `inject('databaseUrl')`. PostgreSQL and Redis are required: a test that
 * needs them fails when they are missing instead of being skipped.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    adminDatabaseUrl: string
    redisUrl: string
  }
}

const ADMIN_URL =
  process.env.QUIRE_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS_URL = process.env.QUIRE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const name = `quire_test_${Date.now()}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  try {
    await admin.connect()
  } catch (err) {
    throw new Error(
      `the tests need PostgreSQL at ${ADMIN_URL} (set QUIRE_TEST_ADMIN_DATABASE_URL): ${String(err)}`,
    )
  }
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()

  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  project.provide('databaseUrl', url.toString())
  project.provide('adminDatabaseUrl', ADMIN_URL)
  project.provide('redisUrl', REDIS_URL)

  return async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  }
}
