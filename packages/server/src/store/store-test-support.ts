/**
 * Test support for the store's suites: the two database engines behind one
 * shape, SqlClient wrappers that count or fail on purpose, a logger whose
 * lines can be read back, and Yjs edit helpers. Imported by tests only.
 * @internal
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import { inject } from 'vitest'
import * as Y from 'yjs'
import type { StoredDocument, UpdateRecord } from './document-store.js'
import { createPgClient } from './pg-client.js'
import { openPgliteClient } from './pglite-client.js'
import type { SqlClient, SqlParam } from './sql-client.js'
import {
  openEmbeddedStore,
  openPostgresStore,
  type SqlDocumentStore,
} from './sql-document-store.js'

/** One database the suite runs against; `connect` may be called again after a close. */
export interface TestDatabase {
  /** Opens a new client on the database. For PGlite, close the previous one first. */
  connect(): Promise<SqlClient>
  /** Opens a store through the engine's factory (`openEmbeddedStore`, `openPostgresStore`). */
  openWithFactory(logger: Logger): Promise<SqlDocumentStore>
  /** Deletes what the database left behind (PGlite's folder). */
  cleanup(): Promise<void>
}

/** A database engine the contract suites run on. */
export interface TestEngine {
  readonly name: string
  open(): Promise<TestDatabase>
}

/** Every engine, for `describe.each`. */
export const TEST_ENGINES: readonly TestEngine[] = [
  {
    name: 'PGlite',
    async open() {
      const dataDir = await mkdtemp(join(tmpdir(), 'quire-store-'))
      return {
        connect: () => openPgliteClient({ directory: join(dataDir, 'pglite') }),
        openWithFactory: (logger) => openEmbeddedStore({ dataDir, logger }),
        cleanup: () => rm(dataDir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const connectionString = inject('databaseUrl')
      return {
        connect: async () => createPgClient({ connectionString, maxConnections: 4 }),
        openWithFactory: (logger) => openPostgresStore({ databaseUrl: connectionString, logger }),
        cleanup: async () => undefined,
      }
    },
  },
]

/** Knobs of `wrapClient`; counters are live. */
export interface ClientProbe {
  /** Transactions started (including failed ones). */
  transactionCount: number
  /** Throw at the start of this many next transactions, before any statement. */
  failTransactionsBefore: number
  /** Let this many next transactions commit, then throw as if the reply was lost. */
  failTransactionsAfterCommit: number
  /** Queries (outside transactions) whose text matches fail. */
  failQueriesMatching: RegExp | null
  /** Queries (outside transactions) whose text matches wait `slowQueryDelayMs` first. */
  slowQueriesMatching: RegExp | null
  slowQueryDelayMs: number
  /** Most slow queries seen running at once. */
  maxConcurrentSlowQueries: number
  /** Wait this long inside each transaction before its work, ms. */
  transactionDelayMs: number
  /** Most transactions seen running at once. */
  maxConcurrentTransactions: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Wraps `inner` so a test can count its transactions and make them fail. */
export const wrapClient = (inner: SqlClient): { client: SqlClient; probe: ClientProbe } => {
  const probe: ClientProbe = {
    transactionCount: 0,
    failTransactionsBefore: 0,
    failTransactionsAfterCommit: 0,
    failQueriesMatching: null,
    slowQueriesMatching: null,
    slowQueryDelayMs: 0,
    maxConcurrentSlowQueries: 0,
    transactionDelayMs: 0,
    maxConcurrentTransactions: 0,
  }
  let slowQueryCount = 0
  let activeTransactionCount = 0
  const client: SqlClient = {
    async query<Row>(text: string, params?: readonly SqlParam[]): Promise<Row[]> {
      if (probe.failQueriesMatching?.test(text) === true) {
        throw new Error('injected query failure')
      }
      if (probe.slowQueriesMatching?.test(text) !== true) return inner.query<Row>(text, params)
      slowQueryCount++
      probe.maxConcurrentSlowQueries = Math.max(probe.maxConcurrentSlowQueries, slowQueryCount)
      try {
        await sleep(probe.slowQueryDelayMs)
        return await inner.query<Row>(text, params)
      } finally {
        slowQueryCount--
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      probe.transactionCount++
      if (probe.failTransactionsBefore > 0) {
        probe.failTransactionsBefore--
        throw new Error('injected transaction failure')
      }
      activeTransactionCount++
      probe.maxConcurrentTransactions = Math.max(
        probe.maxConcurrentTransactions,
        activeTransactionCount,
      )
      let result: T
      try {
        result = await inner.transaction(async (tx) => {
          if (probe.transactionDelayMs > 0) await sleep(probe.transactionDelayMs)
          return fn(tx)
        })
      } finally {
        activeTransactionCount--
      }
      if (probe.failTransactionsAfterCommit > 0) {
        probe.failTransactionsAfterCommit--
        throw new Error('injected connection loss after commit')
      }
      return result
    },
    close: () => inner.close(),
  }
  return { client, probe }
}

/** A logger at debug level whose lines the test reads back as objects. */
export const createTestLogger = (): { logger: Logger; lines: () => Record<string, unknown>[] } => {
  const raw: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString())
      callback()
    },
  })
  const logger = pino({ level: 'debug' }, destination)
  const lines = (): Record<string, unknown>[] =>
    raw
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return { logger, lines }
}

/** A fresh document id, so tests sharing a database never see each other. */
export const randomDocId = (): string => `doc-${randomUUID()}`

/**
 * Types `text` into the Y.Text 'text' of a fresh client document one
 * character at a time, and returns the update of each keystroke in order.
 */
export const typeText = (text: string): Uint8Array[] => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const ytext = doc.getText('text')
  for (const char of text) ytext.insert(ytext.length, char)
  doc.destroy()
  return updates
}

let busCounter = 0

/** An update record for `docId` with a unique bus id. */
export const makeRecord = (docId: string, update: Uint8Array, busId?: string): UpdateRecord => ({
  docId,
  update,
  userId: 'user-1',
  connId: 'conn-1',
  receivedAtMs: Date.now(),
  busId: busId ?? `test:${++busCounter}`,
})

/** Applies a stored document into a fresh Y.Doc and returns its Y.Text 'text'. */
export const readText = (stored: StoredDocument): string => {
  const doc = new Y.Doc()
  if (stored.checkpoint !== null) Y.applyUpdate(doc, stored.checkpoint)
  for (const update of stored.updates) Y.applyUpdate(doc, update)
  const text = doc.getText('text').toString()
  doc.destroy()
  return text
}

/** Resolves once `check` returns true, polling every 10 ms; rejects after `timeoutMs`. */
export const waitUntil = async (
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
