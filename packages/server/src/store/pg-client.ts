/**
 * `SqlClient` over a pg connection pool: the production PostgreSQL adapter.
 * Type parsing is set on this pool only (never on pg's global registry), so
 * int8 comes back as a number and bytea as a fresh Uint8Array, the same shapes
 * the PGlite adapter returns.
 */
import pg from 'pg'
import type { Logger } from 'pino'
import {
  createTransactionClient,
  parseBytea,
  parseInt8,
  PG_TYPE_ID,
  type SqlClient,
  type SqlParam,
} from './sql-client.js'

/** Options of `createPgClient`. */
export interface PgClientOptions {
  /** PostgreSQL connection string (`postgres://user@host:5432/db`). */
  readonly connectionString: string
  /** Most connections the pool opens at once. @default 10 */
  readonly maxConnections?: number
  /** Receives a warn line when an idle pooled connection fails (the pool replaces it). */
  readonly logger?: Logger
}

/** Defaults of `PgClientOptions`. */
export const DEFAULT_PG_CLIENT_OPTIONS = Object.freeze({ maxConnections: 10 })

// pg's parser lookup is overloaded on the format; the store only ever reads
// text-format results, so one function serves both signatures.
const getTypeParser = ((typeId: number, format?: 'text' | 'binary') => {
  if (format !== 'binary' && typeId === PG_TYPE_ID.int8) return parseInt8
  if (format !== 'binary' && typeId === PG_TYPE_ID.bytea) return parseBytea
  return pg.types.getTypeParser(typeId, format ?? 'text')
}) as pg.CustomTypesConfig['getTypeParser']

/**
 * Opens a pool on `connectionString` and returns it as a `SqlClient`. No
 * connection is made until the first query. The caller owns the client and
 * must `close()` it, which ends every pooled connection.
 */
export const createPgClient = (options: PgClientOptions): SqlClient => {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? DEFAULT_PG_CLIENT_OPTIONS.maxConnections,
    types: { getTypeParser },
  })
  // Without a listener, an idle connection dropped by the server would crash
  // the process ('error' events are fatal in Node when unhandled).
  pool.on('error', (err) => {
    options.logger?.warn({ err }, 'idle database connection failed')
  })

  return {
    async query<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
      const result = await pool.query(text, [...params])
      return result.rows as Row[]
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const connection = await pool.connect()
      let brokenBy: Error | undefined
      try {
        await connection.query('BEGIN')
        const tx = createTransactionClient(
          async <Row>(text: string, params: readonly SqlParam[]) => {
            const result = await connection.query(text, [...params])
            return result.rows as Row[]
          },
        )
        const result = await fn(tx)
        await connection.query('COMMIT')
        return result
      } catch (err) {
        // A connection that cannot even roll back is broken: hand the error
        // to release() so the pool destroys it instead of reusing it.
        await connection.query('ROLLBACK').catch((rollbackErr: unknown) => {
          brokenBy = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr))
        })
        throw err
      } finally {
        connection.release(brokenBy)
      }
    },
    close: () => pool.end(),
  }
}
