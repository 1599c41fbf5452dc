/**
 * The small SQL surface the store needs, so PostgreSQL (pg) and embedded
 * PostgreSQL (PGlite) are interchangeable behind it. Both implementations
 * return the same JavaScript shapes for the same query:
 *
 * | column type          | JavaScript value                              |
 * |----------------------|-----------------------------------------------|
 * | int2, int4, int8     | `number` (int8 beyond 2^53 rejects the query) |
 * | float4, float8       | `number`                                      |
 * | bytea                | `Uint8Array` over its own exact-size buffer   |
 * | timestamptz          | `Date`                                        |
 * | text                 | `string`                                      |
 * | numeric              | `string` (exact); cast to float8 for a number |
 *
 * Parameters are positional (`$1`, `$2`, …), one statement per `query`.
 */
import { StoreError } from './store-error.js'

/** A value that may be bound to a positional parameter. */
export type SqlParam =
  string | number | boolean | null | Date | Uint8Array | readonly string[] | readonly number[]

/** One database connection pool or embedded database, as the store uses it. */
export interface SqlClient {
  /**
   * Runs one statement and resolves with its rows (empty for statements
   * without a result). Rejects with the driver's error on any failure. The
   * row type is the caller's claim; nothing checks it.
   */
  query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<Row[]>
  /**
   * Runs `fn` inside one transaction and commits when it resolves; rolls
   * back and rejects with its error when it rejects. Every statement of the
   * transaction must go through the `tx` it is given. Calling `transaction`
   * on `tx` opens a savepoint that rolls back alone.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
  /** Closes the pool or database; calls after it reject. A transaction's `tx` cannot be closed. */
  close(): Promise<void>
}

/** PostgreSQL type ids whose parsing both implementations override. @internal */
export const PG_TYPE_ID = { bytea: 17, int8: 20 } as const

/**
 * Parses int8 text into a number. Throws when the value does not fit in a
 * double exactly: sequence numbers and counts never get near 2^53, so a value
 * that large is a bug worth a loud failure rather than a rounded number.
 * @internal
 */
export const parseInt8 = (text: string): number => {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`int8 value ${text} does not fit in a JavaScript number`)
  }
  return value
}

/**
 * Parses bytea text output (hex format, `\x0a1b…`) into a fresh Uint8Array.
 * The copy matters: lib0's decoders bound lengths by a view's underlying
 * buffer, so update bytes must never be a view into a larger pooled buffer
 * (see DESIGN.md, "Yjs facts that bite").
 * @internal
 */
export const parseBytea = (text: string): Uint8Array => {
  if (!text.startsWith('\\x')) {
    throw new RangeError(`bytea value is not in hex format: ${text.slice(0, 16)}`)
  }
  return new Uint8Array(Buffer.from(text.slice(2), 'hex'))
}

/**
 * Builds the `VALUES` list of a multi-row statement: `rowCount` groups of
 * `columnCount` positional parameters, each optionally wrapped by
 * `wrap[column]` (e.g. `to_timestamp($n::float8 / 1000)`), numbered from
 * `$1`.
 * @internal
 */
export const buildValuesList = (
  rowCount: number,
  columnCount: number,
  wrap: readonly (((param: string) => string) | undefined)[] = [],
): string => {
  const rows: string[] = []
  for (let row = 0; row < rowCount; row++) {
    const cells: string[] = []
    for (let column = 0; column < columnCount; column++) {
      const param = `$${row * columnCount + column + 1}`
      cells.push(wrap[column]?.(param) ?? param)
    }
    rows.push(`(${cells.join(', ')})`)
  }
  return rows.join(', ')
}

/**
 * Wraps a transaction's connection as a `SqlClient`: `query` runs on that
 * connection, a nested `transaction` runs in a savepoint (named by depth, so
 * nesting works), and `close` is refused because the transaction owns the
 * connection.
 * @internal
 */
export const createTransactionClient = (
  runQuery: <Row>(text: string, params: readonly SqlParam[]) => Promise<Row[]>,
  depth = 0,
): SqlClient => {
  const client: SqlClient = {
    query: <Row>(text: string, params: readonly SqlParam[] = []) => runQuery<Row>(text, params),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const savepoint = `quire_sp_${depth + 1}`
      await runQuery(`SAVEPOINT ${savepoint}`, [])
      try {
        const result = await fn(createTransactionClient(runQuery, depth + 1))
        await runQuery(`RELEASE SAVEPOINT ${savepoint}`, [])
        return result
      } catch (err) {
        await runQuery(`ROLLBACK TO SAVEPOINT ${savepoint}`, [])
        throw err
      }
    },
    close: () =>
      Promise.reject(new StoreError('STORE_MISUSE', 'a transaction client cannot be closed')),
  }
  return client
}

/** Most positional parameters one PostgreSQL statement accepts (a 16-bit count). */
export const MAX_QUERY_PARAMS = 65_535
