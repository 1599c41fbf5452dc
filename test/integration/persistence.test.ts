/**
 * Durability on both stores: what was acknowledged as saved survives a
 * clean restart and a kill -9, loading happens once per document, a
 * document that fails to load is refused and never served as empty.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { CloseCode } from '@quire/protocol'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ReplayClient } from '@quire/tools'
import { connectProvider, RawClient } from '../support/clients.js'
import { makeTempDir, spawnServer, startTestServer, type StoreKind } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

/** Types `text` through a saved-tracking client and resolves once the server acknowledged it. */
const typeAndWaitSaved = async (
  wsUrl: string,
  docId: string,
  text: string,
): Promise<ReplayClient> => {
  const client = new ReplayClient(wsUrl, docId)
  await client.whenSynced(10_000)
  for (const char of text)
    client.doc.getText('text').insert(client.doc.getText('text').length, char)
  await client.whenAllSaved(10_000)
  return client
}

const readText = async (wsUrl: string, docId: string): Promise<string> => {
  const client = new ReplayClient(wsUrl, docId)
  try {
    await client.whenSynced(10_000)
    return client.text()
  } finally {
    client.destroy()
  }
}

describe.each<StoreKind>(['embedded', 'postgres'])('persistence on the %s store', (store) => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  const storeArgs = async (): Promise<string[]> => {
    if (store === 'postgres') return ['--database-url', inject('databaseUrl')]
    const dir = await makeTempDir('persist')
    cleanups.push(dir.remove)
    return ['--data-dir', dir.path]
  }

  it('keeps acknowledged edits across a clean restart', async () => {
    const dir = store === 'embedded' ? await makeTempDir('restart') : null
    if (dir !== null) cleanups.push(dir.remove)
    const docId = newDocId('restart')
    const first = await startTestServer({ store, ...(dir === null ? {} : { dataDir: dir.path }) })
    const client = await typeAndWaitSaved(first.wsUrl, docId, 'persist-me')
    client.destroy()
    await first.close()
    const second = await startTestServer({ store, ...(dir === null ? {} : { dataDir: dir.path }) })
    expect(await readText(second.wsUrl, docId)).toBe('persist-me')
    await second.close()
  })

  it('loses no acknowledged edit to kill -9', async () => {
    const args = await storeArgs()
    const docId = newDocId('kill9')
    const node = await spawnServer(args)
    const client = await typeAndWaitSaved(node.wsUrl, docId, 'survives kill -9')
    await node.stop('SIGKILL')
    client.destroy()
    const restarted = await spawnServer(args)
    expect(await readText(restarted.wsUrl, docId)).toBe('survives kill -9')
    await restarted.stop()
  })

  it('flushes edits still inside the batch window on SIGTERM and SIGINT (F1)', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const args = await storeArgs()
      const docId = newDocId(`t738-${signal.toLowerCase()}`)
      // The longest batch window there is: edits sit in memory for a second.
      const node = await spawnServer([...args, '--batch-delay-ms', '1000'])
      const client = new ReplayClient(node.wsUrl, docId)
      await client.whenSynced(10_000)
      client.doc.getText('text').insert(0, 'persist-me')
      // The server has applied the edit once another client sees it.
      const observer = await connectProvider(node.wsUrl, docId)
      await waitUntil(
        () => observer.doc.getText('text').toString() === 'persist-me',
        'edit applied',
      )
      expect(client.tracker.counters.saved).toBeLessThan(client.tracker.counters.sent)
      const exit = await node.stop(signal)
      expect(exit.code).toBe(0)
      client.destroy()
      observer.destroy()
      const restarted = await spawnServer(args)
      expect(await readText(restarted.wsUrl, docId)).toBe('persist-me')
      await restarted.stop()
    }
  })

  it('does not duplicate content when a client stays open across restarts (F4)', async () => {
    const args = await storeArgs()
    const port = String(20000 + Math.floor(Math.random() * 20000))
    const docId = newDocId('t84')
    let node = await spawnServer([...args, '--port', port])
    const client = await typeAndWaitSaved(node.wsUrl, docId, 'Test')
    for (let restart = 0; restart < 3; restart++) {
      await node.stop()
      node = await spawnServer([...args, '--port', port])
      await waitUntil(
        () => client.provider.synced && client.tracker.isAllSaved,
        'client to resync',
        15_000,
      )
      expect(await readText(node.wsUrl, docId)).toBe('Test')
    }
    client.destroy()
    await node.stop()
  })
})

describe('loading', () => {
  it('loads a document once however many clients join at the same moment', async () => {
    const server = await startTestServer({ store: 'embedded' })
    const docId = newDocId('join')
    const clients = await Promise.all(
      Array.from({ length: 20 }, () =>
        connectProvider(server.wsUrl, docId, { waitForSync: false }),
      ),
    )
    await waitUntil(() => clients.every((c) => c.provider.synced), 'all 20 clients synced')
    const loads = server.logs.withMessage('room loaded').filter((line) => line.docId === docId)
    expect(loads).toHaveLength(1)
    for (const client of clients) client.destroy()
    await server.dispose()
  })

  it('refuses a document whose stored state fails to load, and never serves or saves it as empty', async () => {
    const server = await startTestServer({ store: 'postgres' })
    const docId = newDocId('corrupt')
    const writer = await typeAndWaitSaved(server.wsUrl, docId, 'precious')
    writer.destroy()
    await server.close()

    // Corrupt the stored log: the next load cannot apply it.
    const db = new pg.Client({ connectionString: inject('databaseUrl') })
    await db.connect()
    await db.query('DELETE FROM checkpoints WHERE doc_id = $1', [docId])
    await db.query("UPDATE updates SET data = '\\xdeadbeef' WHERE doc_id = $1", [docId])
    const { rows: before } = await db.query<{ count: string }>(
      'SELECT count(*) FROM updates WHERE doc_id = $1',
      [docId],
    )

    const again = await startTestServer({ store: 'postgres' })
    const raw = await RawClient.open(again.wsUrl, docId)
    // The client sends sync step 1 at once; it must not be answered.
    raw.send(new Uint8Array([0, 0, 1, 0]))
    const closed = await raw.closed
    expect(closed.code).toBe(CloseCode.Unavailable)
    expect(raw.received.filter((frame) => frame[0] === 0)).toHaveLength(0)
    const { rows: after } = await db.query<{ count: string }>(
      'SELECT count(*) FROM updates WHERE doc_id = $1',
      [docId],
    )
    expect(after[0]?.count).toBe(before[0]?.count)
    expect(again.rooms.roomCount).toBe(0)
    await db.end()
    await again.dispose()
  })

  it('unloads a room after its grace period with no sockets', async () => {
    const server = await startTestServer({ store: 'embedded', flags: { roomIdleMs: '50' } })
    const docId = newDocId('unload')
    const client = await typeAndWaitSaved(server.wsUrl, docId, 'bye')
    expect(server.rooms.roomCount).toBe(1)
    client.destroy()
    await waitUntil(() => server.rooms.roomCount === 0, 'room unloaded')
    expect(await readText(server.wsUrl, docId)).toBe('bye')
    await server.dispose()
  })
})
