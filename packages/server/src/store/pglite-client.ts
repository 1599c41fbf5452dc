/**
 * `SqlClient` over PGlite, PostgreSQL compiled to WebAssembly and run in this
 * process: the embedded database of single-machine mode. Its files live in
 * one folder on disk. PGlite is one connection: it queues queries and runs a
 * transaction exclusively, so concurrent callers simply wait their turn.
 */
import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import {
  createTransactionClient,
  parseBytea,
  parseInt8,
  PG_TYPE_ID,
  type SqlClient,
  type SqlParam,
} from './sql-client.js'

/** Options of `openPgliteClient`. */
export interface PgliteClientOptions {
  /** Folder holding the database files; created when missing. */
  readonly directory: string
}

/**
 * Opens (creating when needed) the embedded database in
 * `options.directory` and returns it as a `SqlClient`. The caller owns it and
 * must `close()` it; closing flushes PGlite's files.
 *
 * Limit: one process at a time. PGlite takes no lock on its folder, so a
 * second process opening the same folder corrupts it; run real PostgreSQL
 * (`DATABASE_URL`) for more than one node.
 */
export const openPgliteClient = async (options: PgliteClientOptions): Promise<SqlClient> => {
  await mkdir(options.directory, { recursive: true })
  const db = await PGlite.create(options.directory, {
    parsers: { [PG_TYPE_ID.int8]: parseInt8, [PG_TYPE_ID.bytea]: parseBytea },
  })

  return {
    async query<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
      const result = await db.query<Row>(text, [...params])
      return result.rows
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> =>
      db.transaction(async (transaction) => {
        const tx = createTransactionClient(
          async <Row>(text: string, params: readonly SqlParam[]) => {
            const result = await transaction.query<Row>(text, [...params])
            return result.rows
          },
        )
        return fn(tx)
      }),
    close: () => db.close(),
  }
}
