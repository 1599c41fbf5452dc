/**
 * The document schema version each document requires of its editors. A
 * client that announces a newer version raises it for good (it may have
 * written content that older editors would drop); one that announces an
 * older version is refused by the sync endpoint.
 */
import type { SqlClient } from './sql-client.js'
import { StoreError } from './store-error.js'

/** Version of a document row created without one (the column default). */
const DEFAULT_SCHEMA_VERSION = 1

/**
 * Raises `docId`'s schema version to `clientVersion` when that is newer and
 * resolves with the document's version afterwards. Only a raise writes: a
 * client at or below the default only reads, and a document without a row
 * yet requires nothing beyond the default.
 */
export const admitSchemaVersion = async (
  client: SqlClient,
  docId: string,
  clientVersion: number,
): Promise<number> => {
  try {
    if (clientVersion <= DEFAULT_SCHEMA_VERSION) {
      const [row] = await client.query<{ version: number }>(
        'SELECT schema_version AS version FROM documents WHERE id = $1',
        [docId],
      )
      return row?.version ?? DEFAULT_SCHEMA_VERSION
    }
    const [row] = await client.query<{ version: number }>(
      `INSERT INTO documents (id, schema_version) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE
           SET schema_version = GREATEST(documents.schema_version, EXCLUDED.schema_version)
         RETURNING schema_version AS version`,
      [docId, clientVersion],
    )
    return row?.version ?? clientVersion
  } catch (err) {
    throw new StoreError('STORE_LOAD_FAILED', `reading the schema version of ${docId} failed`, {
      cause: err,
    })
  }
}
