/**
 * Limits the requests that cost seconds of CPU or a worker thread: export,
 * import, changes, saving a version and restoring one. Without it one
 * member asking for them in a loop holds the node's workers (and, for what
 * still runs on the node's thread, every other document) for everyone.
 *
 * Three budgets, each node its own:
 * - per user, at once: `maxPerUser` heavy requests, of which one import
 *   (an import holds the import worker for up to its time limit);
 * - per user, over time: a token bucket of `perMinute` requests a minute
 *   with bursts of `burst`;
 * - per node, at once: `maxPerNode`, whoever asks.
 * Over a user's budget the answer is 429, over the node's 503, both with
 * `Retry-After`.
 */
import type { FastifyReply } from 'fastify'
import { sendError } from './route-support.js'

/** The kind of a heavy request; imports have their own per-user budget of one. */
export type HeavyRequestKind = 'export' | 'import' | 'changes' | 'save-version' | 'restore'

/** Budgets of `createHeavyRequestLimiter`; 0 turns a budget off. */
export interface HeavyRequestLimits {
  /** Heavy requests one user may have running on a node at once. @default 2 */
  readonly maxPerUser: number
  /** Imports one user may have running on a node at once. @default 1 */
  readonly maxImportsPerUser: number
  /** Heavy requests running on a node at once, all users. @default 8 */
  readonly maxPerNode: number
  /** Heavy requests one user may start per minute on a node. @default 60 */
  readonly perMinute: number
  /** Heavy requests one user may start at once after a quiet spell. @default 20 */
  readonly burst: number
}

/** Defaults of `HeavyRequestLimits`. */
export const DEFAULT_HEAVY_REQUEST_LIMITS: HeavyRequestLimits = Object.freeze({
  maxPerUser: 2,
  maxImportsPerUser: 1,
  maxPerNode: 8,
  perMinute: 60,
  burst: 20,
})

/** What `tryAcquire` decided. */
export type HeavyRequestAdmission =
  | { readonly ok: true; readonly release: () => void }
  | {
      readonly ok: false
      readonly reason: 'user-busy' | 'user-rate' | 'node-busy'
      /** When to try again, whole seconds (at least 1). */
      readonly retryAfterS: number
    }

/** Admits or refuses heavy requests. */
export interface HeavyRequestLimiter {
  /**
   * Admits a heavy request of `userId` when every budget allows it; the
   * caller must call `release` once the request is done, whatever happened.
   */
  tryAcquire(userId: string, kind: HeavyRequestKind): HeavyRequestAdmission
}

interface UserState {
  running: number
  imports: number
  tokens: number
  refilledAt: number
}

/** Most users tracked; idle ones with full buckets are forgotten past it. */
const MAX_TRACKED_USERS = 10_000

/** Creates a limiter; `now` is injected for tests. */
export const createHeavyRequestLimiter = (
  limits: Partial<HeavyRequestLimits> = {},
  now: () => number = Date.now,
): HeavyRequestLimiter => {
  const { maxPerUser, maxImportsPerUser, maxPerNode, perMinute, burst } = {
    ...DEFAULT_HEAVY_REQUEST_LIMITS,
    ...limits,
  }
  const users = new Map<string, UserState>()
  let running = 0

  const stateOf = (userId: string, at: number): UserState => {
    let state = users.get(userId)
    if (state === undefined) {
      if (users.size >= MAX_TRACKED_USERS) forgetIdle(at)
      state = { running: 0, imports: 0, tokens: burst, refilledAt: at }
      users.set(userId, state)
    }
    if (perMinute > 0) {
      state.tokens = Math.min(burst, state.tokens + ((at - state.refilledAt) * perMinute) / 60_000)
    }
    state.refilledAt = at
    return state
  }

  const forgetIdle = (at: number): void => {
    for (const [id, state] of users) {
      const tokens = state.tokens + ((at - state.refilledAt) * perMinute) / 60_000
      if (state.running === 0 && (perMinute === 0 || tokens >= burst)) users.delete(id)
    }
  }

  return {
    tryAcquire(userId, kind) {
      const at = now()
      const state = stateOf(userId, at)
      const isImport = kind === 'import'
      if (
        (maxPerUser > 0 && state.running >= maxPerUser) ||
        (isImport && maxImportsPerUser > 0 && state.imports >= maxImportsPerUser)
      ) {
        return { ok: false, reason: 'user-busy', retryAfterS: 1 }
      }
      if (perMinute > 0 && state.tokens < 1) {
        const waitMs = ((1 - state.tokens) * 60_000) / perMinute
        return {
          ok: false,
          reason: 'user-rate',
          retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)),
        }
      }
      if (maxPerNode > 0 && running >= maxPerNode) {
        return { ok: false, reason: 'node-busy', retryAfterS: 2 }
      }

      if (perMinute > 0) state.tokens -= 1
      state.running += 1
      if (isImport) state.imports += 1
      running += 1
      let released = false
      return {
        ok: true,
        release: () => {
          if (released) return
          released = true
          state.running -= 1
          if (isImport) state.imports -= 1
          running -= 1
        },
      }
    },
  }
}

const REFUSALS: Readonly<Record<'user-busy' | 'user-rate' | 'node-busy', [number, string]>> = {
  'user-busy': [
    429,
    'you already have a heavy request running (export, import, changes, saving or restoring a version); wait for it to finish',
  ],
  'user-rate': [429, 'too many exports, imports, comparisons or version changes; try again later'],
  'node-busy': [503, 'the server is busy with other exports and imports; try again shortly'],
}

/**
 * Runs `handle` as a heavy request of `userId` of `kind` when `limiter`
 * admits it, releasing its budget once the handler settled; otherwise
 * answers 429 (the user's budget) or 503 (the node's) with `Retry-After`.
 * No limiter: `handle` runs unlimited.
 */
export const runHeavyRequest = async (
  limiter: HeavyRequestLimiter | undefined,
  userId: string,
  kind: HeavyRequestKind,
  reply: FastifyReply,
  handle: () => Promise<FastifyReply | unknown>,
): Promise<FastifyReply | unknown> => {
  if (limiter === undefined) return handle()
  const admission = limiter.tryAcquire(userId, kind)
  if (!admission.ok) {
    const [status, message] = REFUSALS[admission.reason]
    reply.log.warn({ userId, kind, reason: admission.reason }, 'heavy request refused')
    reply.header('retry-after', String(admission.retryAfterS))
    return sendError(reply, status, message)
  }
  try {
    return await handle()
  } finally {
    admission.release()
  }
}
