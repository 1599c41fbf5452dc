/**
 * Where a benchmarked Quire node keeps its data: a temporary folder for the
 * embedded store, or a fresh PostgreSQL database and Redis key prefix for the
 * PostgreSQL + Redis setup. Each is created per use and removed by
 * `dispose`, so runs never see each other's data.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { ServerKind } from '../client/adapters.js'

/** PostgreSQL administration URL (user postgres, trust) and Redis URL. */
export const ADMIN_DATABASE_URL =
  process.env.QUIRE_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.QUIRE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A server's storage: the flags that point a node at it, and its removal. */
export interface ServerStorage {
  /** Quire flags (empty for the peers, which store nothing). */
  readonly args: readonly string[]
  /** The PostgreSQL database, when there is one. */
  readonly databaseUrl: string | null
  dispose(): Promise<void>
}

/** Creates fresh storage for one server of `kind`. */
export const createStorage = async (kind: ServerKind): Promise<ServerStorage> => {
  if (kind === 'quire-embedded') {
    const dir = await mkdtemp(join(tmpdir(), 'quire-bench-'))
    return {
      args: ['--data-dir', dir],
      databaseUrl: null,
      dispose: () => rm(dir, { recursive: true, force: true }),
    }
  }
  if (kind !== 'quire-postgres') {
    return { args: [], databaseUrl: null, dispose: () => Promise.resolve() }
  }
  const suffix = randomBytes(4).toString('hex')
  const dbName = `quire_bench_${suffix}`
  const prefix = `quirebench${suffix}`
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${dbName}`))
  const url = new URL(ADMIN_DATABASE_URL)
  url.pathname = `/${dbName}`
  const dir = await mkdtemp(join(tmpdir(), 'quire-bench-'))
  return {
    args: [
      '--database-url',
      url.toString(),
      '--redis-url',
      REDIS_URL,
      '--redis-prefix',
      prefix,
      '--data-dir',
      dir,
    ],
    databaseUrl: url.toString(),
    dispose: async () => {
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`))
      deleteRedisKeys(prefix)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

const withAdmin = async (work: (admin: pg.Client) => Promise<unknown>): Promise<void> => {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL })
  await admin.connect()
  try {
    await work(admin)
  } finally {
    await admin.end()
  }
}

/** Deletes every Redis key under `prefix` (redis-cli; a no-op without it). */
const deleteRedisKeys = (prefix: string): void => {
  const url = new URL(REDIS_URL)
  const target = ['-h', url.hostname, '-p', url.port || '6379']
  try {
    const keys = execFileSync('redis-cli', [...target, '--scan', '--pattern', `${prefix}*`])
      .toString()
      .split('\n')
      .filter((key) => key !== '')
    for (let start = 0; start < keys.length; start += 500) {
      execFileSync('redis-cli', [...target, 'DEL', ...keys.slice(start, start + 500)], {
        stdio: 'ignore',
      })
    }
  } catch {
    // Best effort: the prefix is random and unique to this run.
  }
}
