/**
 * Wiring of accounts for one node (`--auth required`): the services, the
 * revocation list and the channel that tells every node about access
 * changes, so open sockets follow revocations and role changes.
 */
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import {
  Accounts,
  AuthService,
  createLocalRevocationList,
  createRedisRevocationList,
  createUpgradeAuthorizer,
  DEFAULT_LOGIN_LIMITS,
  DocumentAccess,
  LoginLimiter,
  RedisFailureCounters,
  type RevocationList,
  SessionStore,
  TokenIssuer,
  type UpgradeAuthorizer,
} from './auth/index.js'
import { closeRedis, openRedis, whenReady } from './bus/redis-connection.js'
import type { ServeConfig } from './config/index.js'
import type { AccessChangeNotifier, ApiDependencies } from './http/api-dependencies.js'
import type { Logger } from './log/index.js'
import type { SqlClient } from './store/index.js'
import type { SyncEndpoint } from './transport/index.js'

/** Sign-ups allowed per address per hour (each costs an argon2 hash). */
const SIGN_UP_LIMITS = Object.freeze({
  maxFailuresPerAccountAndAddress: Infinity,
  maxFailuresPerAccount: Infinity,
  maxFailuresPerAddress: 20,
  windowMs: 60 * 60_000,
})

/** How long the previous refresh token still works after a rotation (two tabs at once), ms. */
export const ROTATION_GRACE_MS = 10_000

/** The accounts part of a node. */
export interface AccountsWiring {
  readonly api: ApiDependencies
  readonly authorizeUpgrade: UpgradeAuthorizer
  /** Connects revocations and access changes to the node's open sockets. */
  attach(endpoint: SyncEndpoint): void
  close(): Promise<void>
}

/**
 * Builds the accounts services on the control database. `publicOrigin` is
 * read lazily: with `--port 0` it is known only once the node listens.
 */
export const wireAccounts = async (
  config: ServeConfig,
  sql: SqlClient,
  logger: Logger,
  publicOrigin: () => string,
): Promise<AccountsWiring> => {
  const secret = new TextEncoder().encode(config.jwtSecret ?? (await loadOrCreateSecret(sql)))
  const accounts = new Accounts(sql)
  const documents = new DocumentAccess(sql)
  const sessions = new SessionStore(sql, {
    refreshTokenTtlS: config.refreshTokenTtlS,
    refreshIdleTtlS: config.refreshIdleTtlS,
    rotationGraceMs: ROTATION_GRACE_MS,
  })
  const tokens = new TokenIssuer({
    secret,
    get issuer() {
      return publicOrigin()
    },
    accessTokenTtlS: config.accessTokenTtlS,
  })

  let redis: { command: Redis; subscriber: Redis } | null = null
  let revocations: RevocationList
  if (config.redisUrl === undefined) {
    revocations = createLocalRevocationList(sessions)
  } else {
    const command = openRedis(config.redisUrl, `${config.redisPrefix}-auth`, logger)
    const subscriber = openRedis(config.redisUrl, `${config.redisPrefix}-auth-events`, logger)
    await Promise.all([whenReady(command), whenReady(subscriber)])
    redis = { command, subscriber }
    revocations = await createRedisRevocationList({
      command,
      subscriber,
      prefix: config.redisPrefix,
      ttlS: config.refreshTokenTtlS,
      sessions,
      logger,
    })
  }
  const auth = new AuthService({
    accounts,
    sessions,
    tokens,
    revocations,
    // With Redis, every node counts into the same windows.
    limiter: new LoginLimiter(
      DEFAULT_LOGIN_LIMITS,
      redis === null
        ? undefined
        : new RedisFailureCounters(redis.command, `${config.redisPrefix}:limits:sign-in`, logger),
    ),
    signUpLimiter: new LoginLimiter(
      SIGN_UP_LIMITS,
      redis === null
        ? undefined
        : new RedisFailureCounters(redis.command, `${config.redisPrefix}:limits:sign-up`, logger),
    ),
    logger,
  })

  // Access changes: straight to this node's sockets, and through Redis to
  // the other nodes'.
  const accessChannel = `${config.redisPrefix}:access`
  let endpoint: SyncEndpoint | null = null
  const recheck = (docId: string, userId: string | null): void => {
    endpoint
      ?.recheckAccess(docId, userId, (d, u) => documents.roleOf(d, u))
      .catch((err: unknown) => logger.warn({ err, docId }, 'access recheck failed'))
  }
  const accessChanges: AccessChangeNotifier = {
    documentAccessChanged: (docId, userId) => {
      if (redis === null) recheck(docId, userId)
      else void redis.command.publish(accessChannel, JSON.stringify({ docId, userId }))
    },
  }
  if (redis !== null) {
    await redis.subscriber.subscribe(accessChannel)
    redis.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== accessChannel) return
      try {
        const { docId, userId } = JSON.parse(message) as { docId: string; userId: string | null }
        recheck(docId, userId)
      } catch (err) {
        logger.warn({ err }, 'access change unreadable')
      }
    })
  }

  return {
    api: {
      auth,
      accounts,
      documents,
      accessChanges,
      get publicOrigin() {
        return publicOrigin()
      },
      accessTokenTtlS: config.accessTokenTtlS,
      refreshTokenTtlS: config.refreshTokenTtlS,
    },
    authorizeUpgrade: createUpgradeAuthorizer({
      auth,
      documents,
      get publicOrigin() {
        return publicOrigin()
      },
    }),
    attach: (attached) => {
      endpoint = attached
      revocations.onRevoked((sessionId) => attached.closeSession(sessionId))
    },
    close: async () => {
      if (redis?.subscriber.status === 'ready') await revocations.close()
      redis?.subscriber.disconnect()
      if (redis !== null) await closeRedis(redis.command)
    },
  }
}

/** The token secret kept in the database: created once, shared by every node. */
const loadOrCreateSecret = async (sql: SqlClient): Promise<string> => {
  await sql.query(
    "INSERT INTO settings (key, value) VALUES ('jwt_secret', $1) ON CONFLICT (key) DO NOTHING",
    [randomBytes(48).toString('base64url')],
  )
  const rows = await sql.query<{ value: string }>(
    "SELECT value FROM settings WHERE key = 'jwt_secret'",
  )
  const value = rows[0]?.value
  if (value === undefined) throw new Error('the token secret could not be stored')
  return value
}
