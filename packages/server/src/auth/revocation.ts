/**
 * The list of ended sessions that every request and WebSocket upgrade checks,
 * and the signal that closes a revoked session's open sockets on every node.
 *
 * Without Redis: in process, backed by the sessions table (a session is ended
 * when the database says so). With Redis: a key per revoked session (expiring
 * with the longest refresh lifetime) and a pub/sub channel that every node
 * listens on. A check that cannot reach Redis fails closed: the request is
 * refused as unauthenticated.
 */
import type { Redis } from 'ioredis'
import type { Logger } from '../log/index.js'
import type { SessionStore } from './session-store.js'

/** Checks and announces ended sessions. */
export interface RevocationList {
  /** Whether the session may no longer be used; true when that cannot be determined. */
  isRevoked(sessionId: string): Promise<boolean>
  /** Marks sessions ended and tells every node (their sockets close). */
  announce(sessionIds: readonly string[]): Promise<void>
  /** Calls `listener` for every session ended anywhere; returns an unsubscribe function. */
  onRevoked(listener: (sessionId: string) => void): () => void
  close(): Promise<void>
}

/** A revocation list for a single node: the database is the list. */
export const createLocalRevocationList = (sessions: SessionStore): RevocationList => {
  const listeners = new Set<(sessionId: string) => void>()
  return {
    isRevoked: (sessionId) => sessions.isEnded(sessionId).catch(() => true),
    announce: async (sessionIds) => {
      for (const sessionId of sessionIds) for (const listener of listeners) listener(sessionId)
    },
    onRevoked: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close: async () => undefined,
  }
}

/** Settings of a Redis revocation list. */
export interface RedisRevocationOptions {
  readonly command: Redis
  readonly subscriber: Redis
  readonly prefix: string
  /** How long a revocation is remembered, seconds: the longest a refresh token lives. */
  readonly ttlS: number
  readonly sessions: SessionStore
  readonly logger: Logger
}

/** Longest a revocation check may wait for Redis before it refuses, ms. */
export const REVOCATION_CHECK_TIMEOUT_MS = 1_000

/** A revocation list shared by every node through Redis. */
export const createRedisRevocationList = async (
  options: RedisRevocationOptions,
): Promise<RevocationList> => {
  const channel = `${options.prefix}:revoked`
  const key = (sessionId: string): string => `${options.prefix}:revoked:${sessionId}`
  const listeners = new Set<(sessionId: string) => void>()
  await options.subscriber.subscribe(channel)
  options.subscriber.on('message', (from: string, sessionId: string) => {
    if (from !== channel) return
    for (const listener of listeners) listener(sessionId)
  })
  return {
    isRevoked: async (sessionId) => {
      let timer: NodeJS.Timeout | undefined
      try {
        // Redis commands wait for a reconnect instead of failing; a check
        // must answer now, so a slow one counts as revoked.
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('revocation check timed out')),
            REVOCATION_CHECK_TIMEOUT_MS,
          )
        })
        const exists = await Promise.race([options.command.exists(key(sessionId)), timeout])
        if (exists === 1) return true
        return await options.sessions.isEnded(sessionId)
      } catch (err) {
        options.logger.warn({ err }, 'revocation check failed; refusing')
        return true
      } finally {
        clearTimeout(timer)
      }
    },
    announce: async (sessionIds) => {
      for (const sessionId of sessionIds) {
        await options.command.set(key(sessionId), '1', 'EX', options.ttlS)
        await options.command.publish(channel, sessionId)
      }
    },
    onRevoked: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close: async () => {
      await options.subscriber.unsubscribe(channel).catch(() => undefined)
    },
  }
}
