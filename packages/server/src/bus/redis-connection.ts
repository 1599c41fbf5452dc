/**
 * ioredis connections as Quire uses them: commands wait through a Redis
 * outage instead of failing after a few retries, and reconnects back off
 * up to a second.
 */
import { Redis } from 'ioredis'
import type { Logger } from '../log/index.js'

/** Opens a connection to `redisUrl`; `role` names it in logs and in `CLIENT LIST`. */
export const openRedis = (redisUrl: string, role: string, logger: Logger): Redis => {
  const redis = new Redis(redisUrl, {
    connectionName: `quire-${role}`,
    // Commands queue while Redis is away and run when it is back: an
    // append must not fail because Redis restarted.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
    lazyConnect: false,
  })
  let wasReady = false
  redis.on('ready', () => {
    if (wasReady) logger.warn({ role }, 'redis reconnected')
    wasReady = true
  })
  redis.on('error', (err: Error) => {
    // ioredis reconnects by itself; each failed attempt lands here.
    logger.debug({ role, err: { message: err.message } }, 'redis connection error')
  })
  return redis
}

/** Resolves once `redis` is ready (immediately if it is). */
export const whenReady = (redis: Redis): Promise<void> =>
  redis.status === 'ready'
    ? Promise.resolve()
    : new Promise((resolve) => redis.once('ready', () => resolve()))

/**
 * Closes a connection: politely (QUIT, after pending replies) when Redis is
 * there, at once when it is not (QUIT would wait for a reconnect forever).
 */
export const closeRedis = async (redis: Redis): Promise<void> => {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect())
    return
  }
  redis.disconnect()
}
