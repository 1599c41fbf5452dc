/**
 * The document log across nodes: one Redis stream per document carries every
 * update a node applied to every other node holding the document open, and
 * buffers it for the persisters, which commit it to PostgreSQL.
 *
 * - Appending: XADD to the document's stream (with this node's id as
 *   origin) and a work entry for the persisters. The append resolves when a
 *   persister announces that the database holds the stream position.
 * - Reading: one blocking XREAD over the streams of the documents open here,
 *   from the last id read; entries of this node's own origin are skipped.
 *   When the set of documents changes, the read is interrupted with
 *   CLIENT UNBLOCK. Nothing polls, neither Redis nor PostgreSQL.
 * - Presence travels on a pub/sub channel per document; it is ephemeral.
 * - Redis restarts: appends wait in ioredis's offline queue. If Redis lost
 *   its data (its epoch key changed) or this node was cut off longer than
 *   persisters keep persisted entries, every open document is caught up
 *   from the database and every unpersisted append is published again (the
 *   update log's idempotency key makes the second copy a no-op).
 *
 * Limit: the blocking read names several streams in one XREAD, which Redis
 * Cluster refuses across slots; on a cluster, reads would have to be grouped
 * by slot (each document's keys share one slot through the hash tag).
 */
import { randomBytes } from 'node:crypto'
import type { AwarenessEntry } from '@quire/protocol'
import type { Redis } from 'ioredis'
import type { Logger } from '../log/index.js'
import { createDeferred, type Deferred } from '../room/deferred.js'
import type { DocumentLog, DocumentLogListener, OpenedDocument } from '../room/index.js'
import type { DocumentStore, UpdateRecord } from '../store/index.js'
import { closeRedis, openRedis, whenReady } from './redis-connection.js'
import { compareStreamIds, readFields, type RedisKeys, StreamField } from './redis-keys.js'

/** Settings of `createRedisLog`. */
export interface RedisLogOptions {
  readonly redisUrl: string
  readonly keys: RedisKeys
  readonly nodeId: string
  /** Read side of the database: document state on open and on resync. */
  readonly store: DocumentStore
  readonly logger: Logger
  /**
   * How long persisters keep stream entries after persisting them, in ms. A
   * node cut off from Redis for more than half of it resyncs from the
   * database on reconnect.
   */
  readonly streamGraceMs: number
  /**
   * Receives, for each update another node made, the time from its entry in
   * the stream (the entry id's milliseconds, Redis's clock) to its arrival here, s.
   */
  readonly observeCrossNode?: (seconds: number) => void
}

/** A running Redis document log. */
export interface RedisLog extends DocumentLog {
  /** Resolves when Redis answers a PING. */
  checkHealth(): Promise<void>
  /** Appends made on this node that are not durable yet (backpressure reads it). */
  readonly pendingCount: number
  /** Updates waiting in the persister work stream (read or not, not yet stored). */
  persistBacklog(): Promise<number>
  /** Stops reading and closes the connections; pending appends are rejected. */
  close(): Promise<void>
}

interface OpenDoc {
  readonly listener: DocumentLogListener
  /** Last stream id read (or loaded); reads resume after it. */
  lastId: string
}

interface PendingAppend {
  readonly record: UpdateRecord
  /** Position of its entry in the document's stream; null until appended (or again after a disconnect). */
  streamId: string | null
  /** Whether a `publish` loop for it is running. */
  isPublishing: boolean
  readonly durable: Deferred<unknown>
}

/** Opens the connections and starts the reader. */
export const createRedisLog = async (options: RedisLogOptions): Promise<RedisLog> => {
  const log = new RedisDocumentLog(options)
  await log.start()
  return log
}

class RedisDocumentLog implements RedisLog {
  private readonly command: Redis
  private readonly reader: Redis
  private readonly subscriber: Redis
  private readonly logger: Logger
  private readonly keys: RedisKeys
  private readonly docs = new Map<string, OpenDoc>()
  private readonly pending = new Map<string, PendingAppend[]>()
  private pendingTotal = 0
  private readonly persisted = new Map<string, string>()
  private readonly subscribedDocs = new Set<string>()
  private readerClientId: number | null = null
  private isReaderBlocked = false
  private readGeneration = 0
  private wakeReader: (() => void) | null = null
  private epoch: string | null = null
  private disconnectedAtMs: number | null = null
  private isClosed = false
  private readerDone: Promise<void> = Promise.resolve()

  constructor(private readonly options: RedisLogOptions) {
    this.logger = options.logger.child({ component: 'redis-log' })
    this.keys = options.keys
    this.command = openRedis(options.redisUrl, `${options.keys.prefix}-command`, this.logger)
    this.reader = openRedis(options.redisUrl, `${options.keys.prefix}-reader`, this.logger)
    this.subscriber = openRedis(options.redisUrl, `${options.keys.prefix}-subscriber`, this.logger)
  }

  async start(): Promise<void> {
    await Promise.all([whenReady(this.command), whenReady(this.reader), whenReady(this.subscriber)])
    this.epoch = await this.readEpoch()
    this.readerClientId = Number(await this.reader.client('ID'))
    this.reader.on('ready', () => {
      void this.reader.client('ID').then((id) => (this.readerClientId = Number(id)))
    })
    this.command.on('close', () => {
      this.disconnectedAtMs ??= Date.now()
      this.forgetStreamPositions()
    })
    this.subscriber.on('close', () => this.forgetStreamPositions())
    this.command.on('ready', () => void this.handleReconnect())
    this.subscriber.on('ready', () => {
      this.republishUnplaced()
      void this.refreshPersisted([...this.pending.keys()])
    })
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.handleMessage(channel.toString('utf8'), message),
    )
    this.readerDone = this.readLoop()
  }

  async open(docId: string, listener: DocumentLogListener): Promise<OpenedDocument> {
    // Stream first, database second: an entry trimmed between the two reads
    // was persisted before the database read, so it is in one of them. Only
    // the entries past the persisted position are read: the stream keeps
    // persisted entries for --stream-grace-ms, and reading those too would
    // apply a just-written history twice (a 20,000-update document opened
    // within a minute of its last edit read 20,000 entries it then applied
    // over the same rows from the database).
    const persistedId = await this.command.get(this.keys.persisted(docId))
    const tail = await this.command.xrangeBuffer(
      this.keys.updatesStream(docId),
      persistedId === null ? '-' : `(${persistedId}`,
      '+',
    )
    const stored = await this.options.store.loadDocument(docId)
    // Concatenated, not spread into push(): a long uncompacted history has
    // more updates than a call may take arguments.
    const updates: Uint8Array[] = (stored.checkpoint === null ? [] : [stored.checkpoint]).concat(
      stored.updates,
    )
    let lastId = persistedId ?? '0-0'
    for (const [id, flat] of tail) {
      lastId = id.toString('utf8')
      const data = readFields(flat).get(StreamField.data)
      if (data !== undefined) updates.push(new Uint8Array(data))
    }
    this.docs.set(docId, { listener, lastId })
    await this.subscribeDoc(docId)
    this.interruptRead()
    return {
      updates,
      close: () => {
        this.docs.delete(docId)
        this.interruptRead()
        void this.unsubscribeIfIdle(docId)
      },
    }
  }

  append(record: UpdateRecord): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new Error('redis log closed'))
    const entry: PendingAppend = {
      record,
      streamId: null,
      isPublishing: false,
      durable: createDeferred(),
    }
    const list = this.pending.get(record.docId) ?? []
    list.push(entry)
    this.pendingTotal++
    this.pending.set(record.docId, list)
    void this.subscribeDoc(record.docId)
    void this.publish(entry)
    return entry.durable.promise
  }

  publishAwareness(docId: string, entries: readonly AwarenessEntry[]): void {
    const message = JSON.stringify({ node: this.options.nodeId, entries })
    this.command.publish(this.keys.awarenessChannel(docId), message).catch((err: unknown) => {
      this.logger.debug({ err, docId }, 'presence not published')
    })
  }

  async checkHealth(): Promise<void> {
    await this.command.ping()
  }

  get pendingCount(): number {
    return this.pendingTotal
  }

  async persistBacklog(): Promise<number> {
    // Persisters delete work entries once stored, so the length is the backlog.
    return this.command.xlen(this.keys.persistQueue)
  }

  async close(): Promise<void> {
    this.isClosed = true
    this.interruptRead()
    for (const list of this.pending.values()) {
      for (const entry of list) entry.durable.reject(new Error('redis log closed'))
    }
    this.pending.clear()
    this.pendingTotal = 0
    this.reader.disconnect()
    // ioredis leaves a command queued while reconnecting pending forever
    // after disconnect(), so the reader may never return: wait a little.
    await Promise.race([this.readerDone, new Promise((resolve) => setTimeout(resolve, 1_000))])
    this.subscriber.disconnect()
    await closeRedis(this.command)
  }

  /** XADDs an entry (again, after a data loss) and records its stream id. */
  private async publish(entry: PendingAppend): Promise<void> {
    entry.isPublishing = true
    try {
      await this.publishUntilAppended(entry)
    } finally {
      entry.isPublishing = false
    }
  }

  private async publishUntilAppended(entry: PendingAppend): Promise<void> {
    const { record } = entry
    for (let attempt = 0; !this.isClosed; attempt++) {
      try {
        const results = await this.command
          .pipeline()
          .xadd(
            this.keys.updatesStream(record.docId),
            '*',
            StreamField.origin,
            this.options.nodeId,
            StreamField.busId,
            record.busId,
            StreamField.user,
            record.userId ?? '',
            StreamField.conn,
            record.connId ?? '',
            StreamField.session,
            record.sessionId ?? '',
            StreamField.receivedAt,
            String(record.receivedAtMs),
            StreamField.data,
            Buffer.from(record.update.buffer, record.update.byteOffset, record.update.byteLength),
          )
          .xadd(this.keys.persistQueue, '*', 'doc', record.docId)
          .exec()
        const [xaddError, streamId] = results?.[0] ?? [new Error('no reply'), null]
        if (xaddError !== null) throw xaddError
        entry.streamId = String(streamId)
        this.settleDurable(record.docId)
        return
      } catch (err) {
        this.logger.warn({ err, docId: record.docId, attempt }, 'stream append failed')
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)))
      }
    }
  }

  /** Resolves appends of `docId` that the persisted position now covers. */
  private settleDurable(docId: string): void {
    const persisted = this.persisted.get(docId)
    const list = this.pending.get(docId)
    if (persisted === undefined || list === undefined) return
    while (list.length > 0) {
      const first = list[0] as PendingAppend
      if (first.streamId === null || compareStreamIds(first.streamId, persisted) > 0) break
      list.shift()
      this.pendingTotal--
      first.durable.resolve(undefined)
    }
    if (list.length === 0) {
      this.pending.delete(docId)
      void this.unsubscribeIfIdle(docId)
    }
  }

  private handleMessage(channel: string, message: Buffer): void {
    const docId = this.keys.docIdOf(channel)
    if (docId === null) return
    if (channel === this.keys.savedChannel(docId)) {
      this.notePersisted(docId, message.toString('utf8'))
      return
    }
    const doc = this.docs.get(docId)
    if (doc === undefined) return
    try {
      const parsed = JSON.parse(message.toString('utf8')) as { node?: unknown; entries?: unknown }
      if (typeof parsed.node !== 'string' || parsed.node === this.options.nodeId) return
      if (!Array.isArray(parsed.entries)) return
      doc.listener.onRemoteAwareness(parsed.node, parsed.entries as AwarenessEntry[])
    } catch (err) {
      this.logger.warn({ err, docId }, 'presence message unreadable')
    }
  }

  private notePersisted(docId: string, streamId: string): void {
    const known = this.persisted.get(docId)
    if (known === undefined || compareStreamIds(streamId, known) > 0)
      this.persisted.set(docId, streamId)
    this.settleDurable(docId)
  }

  private async subscribeDoc(docId: string): Promise<void> {
    if (this.subscribedDocs.has(docId)) return
    this.subscribedDocs.add(docId)
    await this.subscriber.subscribe(
      this.keys.awarenessChannel(docId),
      this.keys.savedChannel(docId),
    )
    await this.refreshPersisted([docId])
  }

  private async unsubscribeIfIdle(docId: string): Promise<void> {
    if (this.docs.has(docId) || this.pending.has(docId) || !this.subscribedDocs.has(docId)) return
    this.subscribedDocs.delete(docId)
    this.persisted.delete(docId)
    await this.subscriber
      .unsubscribe(this.keys.awarenessChannel(docId), this.keys.savedChannel(docId))
      .catch(() => undefined)
  }

  /** Reads persisted positions directly: a pub/sub message may have been missed. */
  private async refreshPersisted(docIds: readonly string[]): Promise<void> {
    for (const docId of docIds) {
      const value = await this.command.get(this.keys.persisted(docId)).catch(() => null)
      if (value !== null) this.notePersisted(docId, value)
    }
  }

  /**
   * Makes the reader start a new XREAD with the current documents. The
   * XREAD may not have reached Redis yet when UNBLOCK is sent (UNBLOCK then
   * answers 0), so it is repeated until it lands or the read returned.
   */
  private interruptRead(): void {
    this.wakeReader?.()
    const generation = ++this.readGeneration
    const unblock = async (): Promise<void> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        if (
          !this.isReaderBlocked ||
          this.readerClientId === null ||
          generation !== this.readGeneration
        )
          return
        const unblocked = await this.command.client('UNBLOCK', this.readerClientId).catch(() => 0)
        if (unblocked === 1) return
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    void unblock()
  }

  private async readLoop(): Promise<void> {
    while (!this.isClosed) {
      if (this.docs.size === 0) {
        await new Promise<void>((resolve) => (this.wakeReader = resolve))
        this.wakeReader = null
        continue
      }
      const docIds = [...this.docs.keys()]
      const keys = docIds.map((docId) => this.keys.updatesStream(docId))
      const ids = docIds.map((docId) => this.docs.get(docId)?.lastId ?? '0-0')
      try {
        this.isReaderBlocked = true
        // The block timeout is a safety net only: reads return as soon as
        // an entry arrives, and changes of the document set interrupt them.
        const result = await this.reader.xreadBuffer(
          'COUNT',
          1000,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          ...keys,
          ...ids,
        )
        this.isReaderBlocked = false
        for (const [key, entries] of result ?? []) this.deliver(key.toString('utf8'), entries)
      } catch (err) {
        this.isReaderBlocked = false
        if (this.isClosed) return
        this.logger.warn({ err: { message: (err as Error).message } }, 'stream read failed')
        await whenReady(this.reader)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  private deliver(key: string, entries: [Buffer, Buffer[]][]): void {
    const docId = this.keys.docIdOf(key)
    const doc = docId === null ? undefined : this.docs.get(docId)
    if (doc === undefined) return
    const remote: Uint8Array[] = []
    const now = Date.now()
    for (const [id, flat] of entries) {
      doc.lastId = id.toString('utf8')
      const fields = readFields(flat)
      if (fields.get(StreamField.origin)?.toString('utf8') === this.options.nodeId) continue
      const data = fields.get(StreamField.data)
      if (data === undefined) continue
      remote.push(new Uint8Array(data))
      this.options.observeCrossNode?.(Math.max(0, now - Number.parseInt(doc.lastId, 10)) / 1000)
    }
    for (const update of remote) doc.listener.onRemoteUpdate(update)
  }

  private async readEpoch(): Promise<string> {
    await this.command.set(this.keys.epoch, randomBytes(8).toString('hex'), 'NX')
    return (await this.command.get(this.keys.epoch)) ?? ''
  }

  /**
   * When a connection to Redis drops, the stream positions of unpersisted
   * appends and the persisted positions known here can no longer be
   * compared: if Redis restarted empty, an append's entry may be gone while
   * a persister, once back, announces positions past it for entries written
   * after the restart, which would settle the lost append as durable. So
   * every unpersisted append forgets its position (it settles only after it
   * is appended again, on reconnect) and the persisted positions are read
   * afresh.
   */
  private forgetStreamPositions(): void {
    for (const list of this.pending.values()) {
      for (const entry of list) entry.streamId = null
    }
    this.persisted.clear()
  }

  /** Appends again every unpersisted append whose stream position was forgotten. */
  private republishUnplaced(): void {
    for (const list of this.pending.values()) {
      for (const entry of list) {
        if (entry.streamId === null && !entry.isPublishing) void this.publish(entry)
      }
    }
  }

  /**
   * After a reconnect: publishes every unpersisted append again (its entry
   * may be lost; a second copy is a no-op in the update log) and, if Redis
   * lost its data or this node was away too long, catches every open
   * document up from the database.
   */
  private async handleReconnect(): Promise<void> {
    const awayMs = this.disconnectedAtMs === null ? 0 : Date.now() - this.disconnectedAtMs
    this.disconnectedAtMs = null
    if (this.isClosed || this.epoch === null) return
    this.republishUnplaced()
    const epoch = await this.readEpoch()
    const isDataLost = epoch !== this.epoch
    this.epoch = epoch
    if (!isDataLost && awayMs < this.options.streamGraceMs / 2) return
    this.logger.warn({ isDataLost, awayMs, documents: this.docs.size }, 'resynchronising documents')
    for (const [docId, doc] of this.docs) {
      try {
        const stored = await this.options.store.loadDocument(docId)
        doc.listener.onResync(
          stored.checkpoint === null ? stored.updates : [stored.checkpoint, ...stored.updates],
        )
      } catch (err) {
        this.logger.error({ err, docId }, 'resync failed')
      }
    }
    this.interruptRead()
  }
}

/** Longest a single XREAD blocks, ms. */
const READ_BLOCK_MS = 10_000
