/**
 * Wires the concrete parts of one Quire node: the only module that knows
 * which store, bus and transport are in use.
 */
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ServeConfig } from './config/index.js'
import {
  createRedisLog,
  createStoreLog,
  type Persister,
  RedisKeys,
  type RedisLog,
  startPersister,
} from './bus/index.js'
import { wireAccounts } from './accounts-wiring.js'
import { allowAnonymous } from './auth/index.js'
import { createHeavyRequestLimiter, createHttpApp, registerApi } from './http/index.js'
import { createLogger, type Logger } from './log/index.js'
import { RoomManager } from './room/index.js'
import { createChangesDescriber, createDocumentHistory } from './history/index.js'
import {
  type ContentRenderer,
  createContentRenderer,
  createImportConverter,
} from './content/index.js'
import { createDocumentTransfer } from './transfer/index.js'
import { closeReasonLabel, NodeMetrics } from './metrics/index.js'
import {
  admitSchemaVersion,
  createAdvisoryDocumentLock,
  createProcessDocumentLock,
  type HistoryPruner,
  openEmbeddedStore,
  openPostgresStore,
  type SqlDocumentStore,
  startHistoryPruner,
} from './store/index.js'
import { attachSyncEndpoint, type SyncEndpoint } from './transport/index.js'

/** A running node. */
export interface QuireServer {
  /** Base HTTP URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  /** Base WebSocket URL of the sync endpoint's parent, e.g. `ws://127.0.0.1:8080`. */
  readonly wsUrl: string
  readonly port: number
  readonly nodeId: string
  readonly rooms: RoomManager
  /**
   * Graceful stop: stop accepting, close sockets with 1012 so clients move
   * to another node, flush every accepted update, close the store.
   */
  close(): Promise<void>
}

/** Extra wiring for `startQuireServer`, mostly for tests. */
export interface StartOptions {
  readonly logger?: Logger
}

/** Starts a node with `config`. Rejects if the store cannot open or the port is taken. */
export const startQuireServer = async (
  config: ServeConfig,
  options: StartOptions = {},
): Promise<QuireServer> => {
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`
  const logger = (options.logger ?? createLogger({ level: config.logLevel })).child({ nodeId })
  const metrics = new NodeMetrics()
  // Exports and checkpoint HTML render in its worker, which starts with the
  // first rendering and is unref'd: nothing to undo if starting fails.
  const renderer = createContentRenderer({ logger, timeoutMs: config.renderTimeoutMs })
  const store = await openStore(config, logger, metrics, renderer)
  let publicOrigin = config.publicOrigin ?? ''
  const accounts =
    config.auth === 'required'
      ? await wireAccounts(config, store.sql, logger, () => publicOrigin)
      : null
  const keys = new RedisKeys(config.redisPrefix)
  let redisLog: RedisLog | null = null
  let persister: Persister | null = null
  try {
    if (config.redisUrl !== undefined && config.role !== 'persister') {
      redisLog = await createRedisLog({
        redisUrl: config.redisUrl,
        keys,
        nodeId,
        store,
        logger,
        streamGraceMs: config.streamGraceMs,
        observeCrossNode: (seconds) => metrics.crossNodeSeconds.observe(seconds),
      })
    }
    if (config.redisUrl !== undefined && config.role !== 'node') {
      persister = await startPersister({
        redisUrl: config.redisUrl,
        keys,
        store,
        logger,
        consumerName: nodeId,
        claimIdleMs: config.persistClaimIdleMs,
        streamGraceMs: config.streamGraceMs,
      })
    }
  } catch (err) {
    await redisLog?.close()
    await store.close()
    throw err
  }

  const rooms = new RoomManager(redisLog ?? createStoreLog(store), logger, {
    nodeId,
    roomIdleMs: config.roomIdleMs,
    loadTimeoutMs: config.loadTimeoutMs,
    maxPendingUpdateBytes: config.maxPendingUpdateBytes,
    maxDocumentBytes: config.maxDocumentBytes,
    observeFanOut: (seconds) => metrics.fanOutSeconds.observe(seconds),
  })
  // Its worker starts with the first import and is unref'd: nothing to undo
  // if starting fails below.
  const importConverter = createImportConverter({ logger, timeoutMs: config.importTimeoutMs })
  const renderHtml = (state: Uint8Array): Promise<string> => renderer.render('html', [state])
  // Its worker too starts with the first comparison and is unref'd.
  const changesDescriber = createChangesDescriber({ logger, timeoutMs: config.renderTimeoutMs })
  // Where the build of packages/web lands, seen from this file (src or dist).
  const webDir = config.webDir ?? fileURLToPath(new URL('../../web/dist/', import.meta.url))
  const app = createHttpApp(
    logger,
    {
      checkReady: async () => {
        await store.checkHealth()
        await redisLog?.checkHealth()
      },
    },
    {
      webDir,
      ...(config.trustProxy === undefined ? {} : { trustProxy: config.trustProxy.split(',') }),
    },
  )
  try {
    if (accounts !== null) {
      await registerApi(app, accounts.api, {
        history: createDocumentHistory(store.sql, rooms, {
          renderHtml,
          mergeState: (parts, merge) => renderer.merge(parts, merge),
          describeChanges: changesDescriber.describe,
          computeRestore: changesDescriber.computeRestore,
          logger,
          // One embedded node needs no lock beyond its own process.
          lock:
            config.databaseUrl === undefined
              ? createProcessDocumentLock()
              : createAdvisoryDocumentLock(store.sql),
        }),
        transfer: createDocumentTransfer({
          sql: store.sql,
          rooms,
          logger,
          converter: importConverter,
          renderer,
          maxDocumentBytes: config.maxDocumentBytes,
        }),
        heavyRequests: createHeavyRequestLimiter({
          maxPerUser: config.maxHeavyRequestsPerUser,
          maxImportsPerUser: config.maxHeavyRequestsPerUser === 0 ? 0 : 1,
          perMinute: config.heavyRequestsPerMinute,
          maxPerNode: config.maxHeavyRequests,
        }),
      })
    }
    // Scraped by Prometheus on the node's own port; keep it off the public
    // proxy (deploy/nginx/quire.conf refuses /metrics from outside).
    app.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics.render()
      return reply.type(contentType).send(body)
    })
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await persister?.close()
    await redisLog?.close()
    await store.close()
    throw err
  }
  const port = (app.server.address() as AddressInfo).port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  publicOrigin ||= `http://${host}:${port}`
  const endpoint: SyncEndpoint | null =
    config.role === 'persister'
      ? null
      : attachSyncEndpoint(app.server, rooms, logger, {
          maxMessageBytes: config.maxMessageBytes,
          pingIntervalMs: config.pingIntervalMs,
          maxSendBufferBytes: config.maxSendBufferBytes,
          authorize: accounts?.authorizeUpgrade ?? allowAnonymous,
          maxSocketsPerUser: config.maxSocketsPerUser,
          maxSocketsPerAddress: config.maxSocketsPerAddress,
          admitSchema: (docId, version) => admitSchemaVersion(store.sql, docId, version),
          onSocketClosed: (code) => metrics.socketCloses.inc({ reason: closeReasonLabel(code) }),
          throttle: {
            messagesPerSecond: config.rateLimitMessagesPerS,
            bytesPerSecond: config.rateLimitBytesPerS,
            burstBytes: config.maxMessageBytes,
            documentMessagesPerSecond: config.documentRateLimitMessagesPerS,
          },
          isOverloaded: () =>
            (redisLog?.pendingCount ?? store.queuedCount) > config.maxUnsavedUpdates,
          onThrottled: (limit) => metrics.rateLimited.inc({ limit }),
        })
  if (endpoint !== null) accounts?.attach(endpoint)
  metrics.setSources({
    openDocuments: () => rooms.roomCount,
    // Edits this node accepted and not yet stored: in Redis mode, until a
    // persister committed them; embedded, until the group commit did.
    persistQueueDepth: () => redisLog?.pendingCount ?? store.queuedCount,
    ...(endpoint === null
      ? {}
      : { openSockets: () => endpoint.socketCount, pausedSockets: () => endpoint.pausedCount }),
    ...(redisLog === null ? {} : { streamBacklog: () => (redisLog as RedisLog).persistBacklog() }),
  })

  const pruner = startRetention(config, store, logger, metrics)

  if (config.auth === 'none') {
    logger.warn('--auth none: anyone who reaches this port can open and edit any document')
  }
  logger.info(
    {
      port,
      host: config.host,
      role: config.role,
      store: config.databaseUrl === undefined ? 'embedded' : 'postgres',
      bus: config.redisUrl === undefined ? 'in-process' : 'redis',
    },
    'listening',
  )

  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    await endpoint?.close()
    // Appends settle once a persister committed them: this node's own
    // persister (role all) must keep running until then.
    await rooms.shutdown(config.shutdownTimeoutMs / 2)
    await redisLog?.close()
    await persister?.close()
    await accounts?.close()
    await pruner?.close()
    await importConverter.close()
    await store.close()
    await renderer.close()
    await changesDescriber.close()
    await app.close()
    logger.info('stopped')
  }
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}`,
    port,
    nodeId,
    rooms,
    close: () => (closing ??= close()),
  }
}

/**
 * Starts history retention on every node (the job's advisory lock lets one
 * prune a database at a time); none when retention keeps everything. One
 * database today: each shard would be one more entry of `databases`.
 */
const startRetention = (
  config: ServeConfig,
  store: SqlDocumentStore,
  logger: Logger,
  metrics: NodeMetrics,
): HistoryPruner | null =>
  config.historyRetentionDays === 0
    ? null
    : startHistoryPruner({
        databases: [store.sql],
        policy: {
          retentionDays: config.historyRetentionDays,
          checkpointSpacingHours: config.historyCheckpointSpacingHours,
        },
        intervalMs: config.historyPruneIntervalMs,
        logger,
        onPruned: (result) => {
          metrics.historyPruned.inc({ kind: 'updates' }, result.deletedUpdates)
          metrics.historyPruned.inc({ kind: 'checkpoints' }, result.deletedCheckpoints)
        },
      })

const openStore = (
  config: ServeConfig,
  logger: Logger,
  metrics: NodeMetrics,
  renderer: ContentRenderer,
): Promise<SqlDocumentStore> => {
  const writer = {
    observeBatch: (updates: number, seconds: number) => {
      metrics.databaseBatchSize.observe(updates)
      metrics.databaseWriteSeconds.observe(seconds)
    },
    onDeadLetter: () => metrics.deadLetters.inc(),
    maxBatchDelayMs: config.batchDelayMs,
    maxBatchUpdates: config.batchMaxUpdates,
    compactAfterUpdates: config.compactAfterUpdates,
    compactIntervalMs: config.compactIntervalMs,
    // The backup readable without Quire that each checkpoint carries.
    renderCheckpointHtml: (state: Uint8Array) => renderer.render('html', [state]),
    mergeState: (parts: readonly Uint8Array[], merge: { readonly gc: boolean }) =>
      renderer.merge(parts, merge),
  }
  return config.databaseUrl === undefined
    ? openEmbeddedStore({ dataDir: config.dataDir, logger, ...writer })
    : openPostgresStore({ databaseUrl: config.databaseUrl, logger, ...writer })
}
