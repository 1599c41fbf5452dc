/**
 * A document with a long, uncompacted history, written straight into
 * PostgreSQL: `count` updates of one character each, as typing leaves them.
 */
import pg from 'pg'
import * as Y from 'yjs'

/** Stores `count` one-character updates as `docId`'s log; resolves with the final text. */
export const storeLongHistory = async (
  databaseUrl: string,
  docId: string,
  count: number,
): Promise<string> => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < count; i++) text.insert(i, String.fromCharCode(97 + (i % 26)))

  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query('INSERT INTO documents (id, last_seq) VALUES ($1, $2)', [docId, count])
    const chunk = 5_000
    for (let start = 0; start < count; start += chunk) {
      const seqs: number[] = []
      const data: Buffer[] = []
      for (let i = start; i < Math.min(start + chunk, count); i++) {
        seqs.push(i + 1)
        data.push(Buffer.from(updates[i] as Uint8Array))
      }
      await client.query(
        `INSERT INTO updates (doc_id, seq, data, received_at, bus_id)
           SELECT $1, t.seq, t.data, now(), 'seed-' || t.seq
             FROM unnest($2::bigint[], $3::bytea[]) AS t(seq, data)`,
        [docId, seqs, data],
      )
    }
    await client.query('COMMIT')
  } finally {
    await client.end()
  }
  return text.toString()
}
