/**
 * Field case F9: while PostgreSQL refuses every write to the update log
 * (as a revoked INSERT would: SQLSTATE 42501, never blamed on a record, so
 * never dead-lettered), 1,000 clients each open their own document, edit it
 * and leave. Nothing is acknowledged as saved meanwhile; once writes work
 * again the retried batches land every edit, every room unloads, and the
 * heap returns to its baseline.
 */
import { randomUUID } from 'node:crypto'
import { decodeQuireMessage, encodeSyncUpdate, MessageType } from '@quire/protocol'
import type { QuireServer } from '@quire/server'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { RawClient } from '../support/clients.js'
import { makeKilobyteUpdate, measureHeapBytes, startQuietServer } from '../support/many-sessions.js'
import { makeTempDir } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const SESSIONS = 1_000
const CONCURRENCY = 20
const HEAP_GROWTH_BOUND = 0.1

describe('failed saves (F9)', () => {
  const run = randomUUID().slice(0, 6)
  const prefix = `f9-${run}`
  let admin: pg.Client
  let server: QuireServer | undefined
  let dataDir: { path: string; remove: () => Promise<void> }

  beforeAll(async () => {
    dataDir = await makeTempDir('f9')
    server = await startQuietServer(dataDir.path, { databaseUrl: inject('databaseUrl') })
    admin = new pg.Client({ connectionString: inject('databaseUrl') })
    await admin.connect()
  })
  afterAll(async () => {
    await admin?.query(`DROP TRIGGER IF EXISTS refuse_${run} ON updates`).catch(() => undefined)
    await admin?.end()
    await server?.close()
    await dataDir?.remove()
  })

  /** One session: connect, send 1 KB, leave without waiting; returns whether it was acknowledged. */
  const editAndLeave = async (node: QuireServer, docId: string, update: Uint8Array) => {
    const client = await RawClient.open(node.wsUrl, docId, { saved: true })
    client.send(encodeSyncUpdate(update))
    // A round trip, so the update was surely handled before closing.
    client.send(new Uint8Array([MessageType.QueryAwareness]))
    await waitUntil(
      () => client.received.some((frame) => frame[0] === MessageType.Awareness),
      'the node answers the query',
      10_000,
      2,
    )
    const acknowledged = client.received.some(
      (frame) => (decodeQuireMessage(frame)?.count ?? 0) > 0,
    )
    client.close()
    await client.closed
    return acknowledged
  }

  it('retries until the database takes writes again, then stores all 1,000 edits and unloads', async () => {
    const node = server as QuireServer
    const update = makeKilobyteUpdate()
    for (let i = 0; i < 50; i++) await editAndLeave(node, `${prefix}-warm-${i}`, update)
    await waitUntil(() => node.rooms.roomCount === 0, 'warm-up rooms to unload', 30_000)
    const baselineBytes = await measureHeapBytes()

    await admin.query(`CREATE FUNCTION refuse_${run}() RETURNS trigger AS $$
      BEGIN
        IF NEW.doc_id LIKE '${prefix}-doc-%' THEN
          RAISE EXCEPTION 'permission denied for table updates' USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`)
    await admin.query(
      `CREATE TRIGGER refuse_${run} BEFORE INSERT ON updates FOR EACH ROW EXECUTE FUNCTION refuse_${run}()`,
    )

    let next = 0
    let acknowledged = 0
    const worker = async (): Promise<void> => {
      while (next < SESSIONS) {
        const index = next++
        if (await editAndLeave(node, `${prefix}-doc-${index}`, update)) acknowledged++
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    expect(acknowledged).toBe(0)
    // Rooms may unload, but their edits stay queued in the writer, retried.
    const heldBytes = await measureHeapBytes()
    const countStored = async (): Promise<{ docs: number; rows: number }> => {
      const { rows } = await admin.query<{ docs: number; rows: number }>(
        `SELECT count(DISTINCT doc_id)::int AS docs, count(*)::int AS rows
           FROM updates WHERE doc_id LIKE $1`,
        [`${prefix}-doc-%`],
      )
      return rows[0] as { docs: number; rows: number }
    }
    expect(await countStored()).toEqual({ docs: 0, rows: 0 })

    await admin.query(`DROP TRIGGER refuse_${run} ON updates`)
    await waitUntil(
      async () => (await countStored()).rows === SESSIONS,
      'every edit to be stored',
      60_000,
      100,
    )
    await waitUntil(() => node.rooms.roomCount === 0, 'every room to unload', 60_000)
    const afterBytes = await measureHeapBytes()
    const { rows: letters } = await admin.query('SELECT 1 FROM dead_letters WHERE doc_id LIKE $1', [
      `${prefix}-%`,
    ])
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)
    console.log(
      `F9: heap ${mib(baselineBytes)} MiB before, ${mib(heldBytes)} MiB holding ${SESSIONS} ` +
        `unsaved documents, ${mib(afterBytes)} MiB after they were stored and unloaded`,
    )
    expect(await countStored()).toEqual({ docs: SESSIONS, rows: SESSIONS })
    expect(letters).toEqual([])
    expect((afterBytes - baselineBytes) / baselineBytes).toBeLessThan(HEAP_GROWTH_BOUND)
  }, 180_000)
})
