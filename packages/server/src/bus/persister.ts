/**
 * Moves updates from the document streams into PostgreSQL.
 *
 * Work arrives on one Redis stream (the persist queue, an entry naming a
 * document per appended update) read through a consumer group, so several
 * persisters share it and each work entry goes to one of them. For each
 * document named in a batch, the persister reads the document's stream from
 * its persisted position, appends the entries through the store's group
 * commit (idempotent on the entry's bus id), then records and announces the
 * new persisted position, acknowledges the work and trims what it has
 * committed (keeping `streamGraceMs` of history for nodes that are catching
 * up). A persister that dies mid-batch leaves its work entries pending in
 * the group; another persister claims them after `claimIdleMs` and redoes the
 * documents, which writes nothing twice.
 */
import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import type { Logger } from '../log/index.js'
import type { DocumentStore } from '../store/index.js'
import { openRedis, whenReady } from './redis-connection.js'
import {
  compareStreamIds,
  PERSISTER_GROUP,
  readFields,
  type RedisKeys,
  StreamField,
} from './redis-keys.js'

/** Settings of a persister. */
export interface PersisterOptions {
  readonly redisUrl: string
  readonly keys: RedisKeys
  readonly store: DocumentStore
  readonly logger: Logger
  /** Unique name of this persister in the consumer group. @default host-pid */
  readonly consumerName?: string
  /** How long a work entry may stay unacknowledged before another persister claims it, ms. */
  readonly claimIdleMs: number
  /** How long committed entries stay in a document's stream, ms. */
  readonly streamGraceMs: number
}

/** A running persister. */
export interface Persister {
  /** Finishes the batch in hand, then stops. */
  close(): Promise<void>
}

/** Most work entries taken per read, and most stream entries read per call. */
const WORK_BATCH = 1000
const STREAM_PAGE = 2000
/**
 * Documents of one round committed at once: enough to fill a group commit,
 * few enough that their stream pages (`STREAM_PAGE` entries each) stay small.
 */
const DOCUMENTS_AT_ONCE = 64
/** Longest a work read blocks, ms; also how often stale work is looked for. */
const WORK_BLOCK_MS = 2000

/** Sets the key to the given stream id unless it already holds a later one. */
const SET_IF_LATER = `
local current = redis.call('GET', KEYS[1])
if current then
  local cms, cseq = string.match(current, '(%d+)-(%d+)')
  local nms, nseq = string.match(ARGV[1], '(%d+)-(%d+)')
  if tonumber(cms) > tonumber(nms) or (cms == nms and tonumber(cseq) >= tonumber(nseq)) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`

/** Starts a persister on its own Redis connection. */
export const startPersister = async (options: PersisterOptions): Promise<Persister> => {
  const logger = options.logger.child({ component: 'persister' })
  const redis = openRedis(options.redisUrl, `${options.keys.prefix}-persister`, logger)
  await whenReady(redis)
  const consumer = options.consumerName ?? `${hostname()}-${process.pid}`
  let isClosed = false
  const keys = options.keys
  await ensureGroup(redis, keys)
  redis.on('ready', () => void ensureGroup(redis, keys).catch(() => undefined))

  const loop = async (): Promise<void> => {
    let lastClaimAt = 0
    while (!isClosed) {
      try {
        const work = await readWork(redis, keys, consumer)
        if (Date.now() - lastClaimAt > options.claimIdleMs / 2) {
          lastClaimAt = Date.now()
          const claimed = await claimStaleWork(redis, keys, consumer, options.claimIdleMs)
          work.ids.push(...claimed.ids)
          for (const docId of claimed.docIds) work.docIds.add(docId)
        }
        if (work.ids.length === 0) continue
        await persistDocuments(redis, options, [...work.docIds])
        await redis
          .pipeline()
          .xack(keys.persistQueue, PERSISTER_GROUP, ...work.ids)
          .xdel(keys.persistQueue, ...work.ids)
          .exec()
      } catch (err) {
        if (isClosed) break
        logger.warn({ err }, 'persist round failed')
        await whenReady(redis)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
  }
  const running = loop()

  return {
    close: async () => {
      isClosed = true
      // With Redis there, let the round in hand finish (its read blocks at
      // most WORK_BLOCK_MS); without it, the read would wait for a
      // reconnect forever, so cut it off. Unacknowledged work is claimed by
      // another persister later: nothing is lost either way.
      if (redis.status === 'ready') {
        await Promise.race([
          running,
          new Promise((resolve) => setTimeout(resolve, WORK_BLOCK_MS * 3)),
        ])
      }
      redis.disconnect()
      // A read queued while reconnecting may never settle after disconnect().
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 1_000))])
    },
  }
}

const ensureGroup = async (redis: Redis, keys: RedisKeys): Promise<void> => {
  try {
    await redis.xgroup('CREATE', keys.persistQueue, PERSISTER_GROUP, '0', 'MKSTREAM')
  } catch (err) {
    // BUSYGROUP: another persister (or an earlier run) created it.
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err
  }
}

interface Work {
  readonly ids: string[]
  readonly docIds: Set<string>
}

const readWork = async (redis: Redis, keys: RedisKeys, consumer: string): Promise<Work> => {
  const reply = (await redis.xreadgroup(
    'GROUP',
    PERSISTER_GROUP,
    consumer,
    'COUNT',
    WORK_BATCH,
    'BLOCK',
    WORK_BLOCK_MS,
    'STREAMS',
    keys.persistQueue,
    '>',
  )) as [string, [string, string[]][]][] | null
  return collectWork(reply?.[0]?.[1] ?? [])
}

const claimStaleWork = async (
  redis: Redis,
  keys: RedisKeys,
  consumer: string,
  claimIdleMs: number,
): Promise<Work> => {
  const reply = (await redis.xautoclaim(
    keys.persistQueue,
    PERSISTER_GROUP,
    consumer,
    claimIdleMs,
    '0-0',
    'COUNT',
    WORK_BATCH,
  )) as [string, [string, string[]][]]
  return collectWork(reply[1] ?? [])
}

const collectWork = (entries: readonly [string, string[] | null][]): Work => {
  const work: Work = { ids: [], docIds: new Set() }
  for (const [id, fields] of entries) {
    work.ids.push(id)
    // A claimed entry that was deleted meanwhile comes back without fields.
    const docIndex = fields?.indexOf('doc') ?? -1
    const docId = docIndex >= 0 ? fields?.[docIndex + 1] : undefined
    if (docId !== undefined) work.docIds.add(docId)
  }
  return work
}

/**
 * Commits the streams of `docIds`, up to `DOCUMENTS_AT_ONCE` of them at a
 * time. Concurrently, not one after the other: their appends then meet in the
 * store's group commit (one transaction for all of them, instead of one
 * batch window and one transaction per document), and their Redis commands
 * share round trips. A round of ten documents took ten batch windows and ten
 * commits in a row, which was most of an acknowledgement's latency
 * (bench/results/compare-analysis.md). Each document's entries still commit in
 * stream order. Rejects, once every document of the round has settled, with
 * the first failure.
 */
const persistDocuments = async (
  redis: Redis,
  options: PersisterOptions,
  docIds: readonly string[],
): Promise<void> => {
  for (let start = 0; start < docIds.length; start += DOCUMENTS_AT_ONCE) {
    const chunk = docIds.slice(start, start + DOCUMENTS_AT_ONCE)
    const outcomes = await Promise.allSettled(
      chunk.map((docId) => persistDocument(redis, options, docId)),
    )
    const failure = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason
  }
}

/** Commits every entry of the document's stream past its persisted position. */
const persistDocument = async (
  redis: Redis,
  options: PersisterOptions,
  docId: string,
): Promise<void> => {
  const keys = options.keys
  const key = keys.updatesStream(docId)
  let cursor = (await redis.get(keys.persisted(docId))) ?? null
  let committed: string | null = null
  for (;;) {
    const start = cursor === null ? '-' : `(${cursor}`
    const page = await redis.xrangeBuffer(key, start, '+', 'COUNT', STREAM_PAGE)
    if (page.length === 0) break
    const appends: Promise<unknown>[] = []
    for (const [rawId, flat] of page) {
      const fields = readFields(flat)
      const data = fields.get(StreamField.data)
      const busId = fields.get(StreamField.busId)?.toString('utf8')
      if (data === undefined || busId === undefined) continue
      const user = fields.get(StreamField.user)?.toString('utf8') ?? ''
      const conn = fields.get(StreamField.conn)?.toString('utf8') ?? ''
      const session = fields.get(StreamField.session)?.toString('utf8') ?? ''
      appends.push(
        options.store.appendUpdate({
          docId,
          update: new Uint8Array(data),
          userId: user === '' ? null : user,
          connId: conn === '' ? null : conn,
          sessionId: session === '' ? null : session,
          receivedAtMs: Number(fields.get(StreamField.receivedAt)?.toString('utf8') ?? Date.now()),
          busId,
        }),
      )
      cursor = rawId.toString('utf8')
    }
    await Promise.all(appends)
    committed = cursor
    if (page.length < STREAM_PAGE) break
  }
  if (committed === null) return

  await redis.eval(SET_IF_LATER, 1, keys.persisted(docId), committed)
  await redis.publish(keys.savedChannel(docId), committed)
  // Keep a grace period of committed entries for nodes that are catching up.
  const graceId = `${Date.now() - options.streamGraceMs}-0`
  const trimTo = compareStreamIds(committed, graceId) < 0 ? committed : graceId
  await redis.xtrim(key, 'MINID', trimTo)
}
