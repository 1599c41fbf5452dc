/**
 * An append is acknowledged as durable only when a persister announced a
 * position of the SAME Redis data that covers it. When Redis restarts empty,
 * an append written before the restart is gone from the stream; positions
 * announced afterwards (for entries written after the restart) are larger
 * than its old position, and once settled it by comparison, so a client was
 * told "saved" for an edit no database ever received. Here no persister
 * runs: the test plays the persister's announcements itself, so the order
 * of events is fixed as far as a test outside the node can fix it (before
 * the fix this failed in 3 runs out of 3).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createRedisLog, RedisKeys, type RedisLog } from '../../packages/server/src/bus/index.js'
import { compareStreamIds } from '../../packages/server/src/bus/redis-keys.js'
import { openEmbeddedStore, type SqlDocumentStore } from '../../packages/server/src/store/index.js'
import { TestRedis } from '../support/faults.js'
import { waitUntil } from '../support/wait.js'

const keys = new RedisKeys('acks-test')
let cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

const oneUpdate = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

describe('durable acknowledgements across a Redis restart', () => {
  it('never settles an append lost in the restart by a position announced after it', async () => {
    const redis = await TestRedis.start()
    cleanups.push(() => redis.stop())
    const dataDir = await mkdtemp(join(tmpdir(), 'quire-acks-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const logger = pino({ level: 'silent' })
    const store: SqlDocumentStore = await openEmbeddedStore({ dataDir, logger })
    cleanups.push(() => store.close())
    const log: RedisLog = await createRedisLog({
      redisUrl: redis.url,
      keys,
      nodeId: 'node-a',
      store,
      logger,
      streamGraceMs: 60_000,
    })
    cleanups.push(() => log.close())
    const persister = new Redis(redis.url, { maxRetriesPerRequest: null })
    persister.on('error', () => undefined)
    cleanups.push(async () => persister.disconnect())

    const lost = { docId: 'doc-lost', settled: false }
    void log
      .append({
        docId: lost.docId,
        update: oneUpdate('typed before the restart'),
        userId: null,
        connId: null,
        receivedAtMs: Date.now(),
        busId: 'before-restart',
      })
      .then(() => (lost.settled = true))
      .catch(() => undefined)
    const entriesOf = async (docId: string): Promise<string[]> =>
      (await persister.xrange(keys.updatesStream(docId), '-', '+')).map(([id]) => id)
    await waitUntil(async () => (await entriesOf(lost.docId)).length === 1, 'the append in Redis')
    const [oldPosition] = await entriesOf(lost.docId)

    // Redis comes back empty, and before this node is back, a persister has
    // recorded a position past the old entry (as it would after storing
    // another node's entry written after the restart). The node reads it as
    // soon as it reconnects: it must not settle the lost append.
    const [oldMs] = String(oldPosition).split('-')
    const between = `${Number(oldMs) + 1}-0`
    await redis.restart()
    await persister.set(keys.persisted(lost.docId), between)
    await persister.publish(keys.savedChannel(lost.docId), between)
    // The node appends again what was not persisted.
    await waitUntil(async () => (await entriesOf(lost.docId)).length === 1, 'the append again')
    const [newPosition] = await entriesOf(lost.docId)
    expect(compareStreamIds(String(newPosition), between)).toBeGreaterThan(0)

    // A probe document's acknowledgement tells when the node has read
    // every announcement made before it (one connection, in order).
    const probe = { docId: 'doc-probe', settled: false }
    void log
      .append({
        docId: probe.docId,
        update: oneUpdate('probe'),
        userId: null,
        connId: null,
        receivedAtMs: Date.now(),
        busId: 'probe',
      })
      .then(() => (probe.settled = true))
    await waitUntil(async () => (await entriesOf(probe.docId)).length === 1, 'the probe append')
    const [probePosition] = await entriesOf(probe.docId)
    await persister.publish(keys.savedChannel(lost.docId), between)
    await persister.publish(keys.savedChannel(probe.docId), String(probePosition))
    await waitUntil(() => probe.settled, 'the probe acknowledged')
    expect(lost.settled).toBe(false)

    // Once the position of its new entry is announced, it settles.
    await persister.publish(keys.savedChannel(lost.docId), String(newPosition))
    await waitUntil(() => lost.settled, 'the append acknowledged after it was persisted')
  })
})
