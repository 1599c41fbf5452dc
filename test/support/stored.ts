/**
 * Reading what PostgreSQL holds, independently of Quire's own load path.
 */
import pg from 'pg'
import * as Y from 'yjs'

/** A document's text as PostgreSQL holds it: every stored update applied in sequence order. */
export const readStoredText = async (databaseUrl: string, docId: string): Promise<string> => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const doc = new Y.Doc()
    const { rows } = await client.query<{ data: Buffer }>(
      'SELECT data FROM updates WHERE doc_id = $1 ORDER BY seq',
      [docId],
    )
    for (const row of rows) Y.applyUpdate(doc, new Uint8Array(row.data))
    return doc.getText('text').toString()
  } finally {
    await client.end()
  }
}
