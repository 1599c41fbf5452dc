/**
 * Locks that serialise an operation on one document across the whole
 * deployment: a restore reads the stored state, replaces the content by
 * copies of an old version, and waits until that is stored; two restores
 * of one document running at once, on two nodes, would each delete what
 * they saw and each insert a copy (the content twice).
 *
 * With PostgreSQL the lock is a transaction-level advisory lock, held by a
 * transaction on a pool connection of its own while the operation runs
 * (its queries go through the pool's other connections) and released by
 * the commit, or by PostgreSQL when the connection dies. The embedded store
 * has one node, so a lock in the process is enough (and an open
 * transaction on PGlite's one connection would block every other query).
 */
import type { SqlClient } from './sql-client.js'

/**
 * Runs `fn` while holding the lock of `docId`, after every earlier holder
 * of it released it; resolves or rejects as `fn` does, and releases it
 * either way.
 */
export type DocumentLock = <T>(docId: string, fn: () => Promise<T>) => Promise<T>

/**
 * First key of the two-key advisory locks of documents (the second is the
 * hash of the document id); distinct from the single-key locks of
 * migrations and retention.
 */
export const DOCUMENT_LOCK_NAMESPACE = 0x71756972

/**
 * Most advisory locks one process holds at once. Each holds a pool
 * connection for as long as its operation runs, and the operation itself
 * (and the persister storing its edit) needs others: a few at a time keep
 * the pool from filling with waiting holders.
 */
const MAX_HELD_ADVISORY_LOCKS = 2

/** A lock per document within this process: a promise chain per id. */
export const createProcessDocumentLock = (): DocumentLock => {
  const tails = new Map<string, Promise<unknown>>()
  return async (docId, fn) => {
    const previous = tails.get(docId) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    tails.set(docId, tail)
    try {
      return await run
    } finally {
      if (tails.get(docId) === tail) tails.delete(docId)
    }
  }
}

/**
 * A lock per document across every process using `sql` (PostgreSQL):
 * serialised within this process first, at most `MAX_HELD_ADVISORY_LOCKS`
 * documents at a time, then `pg_advisory_xact_lock` in a transaction that
 * stays open until `fn` settles.
 */
export const createAdvisoryDocumentLock = (sql: SqlClient): DocumentLock => {
  const local = createProcessDocumentLock()
  const slots = createSemaphore(MAX_HELD_ADVISORY_LOCKS)
  return (docId, fn) =>
    local(docId, () =>
      slots(() =>
        sql.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [
            DOCUMENT_LOCK_NAMESPACE,
            docId,
          ])
          return fn()
        }),
      ),
    )
}

/** Runs at most `max` functions at once, the rest in order of arrival. */
const createSemaphore = (max: number) => {
  let running = 0
  const waiting: (() => void)[] = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve))
    else running += 1
    try {
      return await fn()
    } finally {
      // The slot passes straight to the next waiter, or is given back.
      const next = waiting.shift()
      if (next === undefined) running -= 1
      else next()
    }
  }
}
