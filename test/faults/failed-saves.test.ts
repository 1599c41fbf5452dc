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
import * as Y from 'yjs'
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

  it('stops reading sockets past --max-unsaved-updates instead of queueing, and loses nothing', async () => {
    const limitDir = await makeTempDir('f9-limit')
    const limited = await startQuietServer(limitDir.path, {
      databaseUrl: inject('databaseUrl'),
      maxUnsavedUpdates: '100',
      rateLimitMessagesPerS: '0',
      documentRateLimitMessagesPerS: '0',
    })
    const docId = `${prefix}-flood`
    await admin.query(`CREATE OR REPLACE FUNCTION refuse_flood_${run}() RETURNS trigger AS $$
      BEGIN
        IF NEW.doc_id = '${docId}' THEN
          RAISE EXCEPTION 'permission denied for table updates' USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`)
    await admin.query(
      `CREATE TRIGGER refuse_flood_${run} BEFORE INSERT ON updates FOR EACH ROW EXECUTE FUNCTION refuse_flood_${run}()`,
    )
    const scrape = async (name: string): Promise<number> => {
      const text = await (await fetch(`${limited.url}/metrics`)).text()
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN)
    }
    try {
      const source = new Y.Doc()
      const updates: Uint8Array[] = []
      source.on('update', (update: Uint8Array) => updates.push(update))
      for (let i = 0; i < 2_000; i++) source.getText('text').insert(i, 'x')
      const flooder = await RawClient.open(limited.wsUrl, docId, { saved: true })
      // Once the room is open (its greeting came): frames sent before that
      // are held by the session and drained at once, bounded by the held-
      // bytes cap rather than by this limit.
      await waitUntil(() => flooder.received.length > 0, 'the greeting')
      for (const update of updates) flooder.send(encodeSyncUpdate(update))

      await waitUntil(async () => (await scrape('quire_paused_sockets')) >= 1, 'the socket paused')
      // Still paused a while later, with the queue at its bound, not growing.
      const depths: number[] = []
      for (let i = 0; i < 5; i++) {
        depths.push(await scrape('quire_persist_queue_depth'))
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(Math.max(...depths)).toBeLessThanOrEqual(101)
      expect(await scrape('quire_paused_sockets')).toBe(1)

      await admin.query(`DROP TRIGGER refuse_flood_${run} ON updates`)
      await waitUntil(
        () => flooder.received.some((f) => (decodeQuireMessage(f)?.count ?? 0) === 2_000),
        'every edit acknowledged as saved',
        60_000,
      )
      const { rows } = await admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM updates WHERE doc_id = $1',
        [docId],
      )
      expect(rows[0]?.n).toBe(2_000)
      expect(await scrape('quire_paused_sockets')).toBe(0)
      flooder.close()
    } finally {
      await admin.query(`DROP TRIGGER IF EXISTS refuse_flood_${run} ON updates`)
      await limited.close()
      await limitDir.remove()
    }
  }, 120_000)
})
