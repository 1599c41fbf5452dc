/**
 * Limits failed sign-ins (and sign-ups) in fixed windows, on three budgets:
 *
 * - per account and address: the tight one (5 in 15 min). A guesser at one
 *   address is stopped quickly, and the lock is theirs alone: the owner
 *   signing in from anywhere else is not locked out by someone else's
 *   failures, which a plain per-account lock would allow to anyone who
 *   knows an email address.
 * - per account, from all addresses: a looser ceiling (50 in 15 min) that
 *   stops guessing spread over many addresses. Its price is the classic
 *   one: an attacker with that many addresses can still lock an account
 *   for a window.
 * - per address, over all accounts: stops one address spraying many
 *   accounts with a few guesses each.
 *
 * An attempt is counted before its password is checked (`tryAttempt`),
 * in one step with the check of the budgets: counting only after the
 * argon2 verification let a burst of guesses sent at once all pass the
 * check, however small the budget. A success then takes its count back.
 *
 * Counts live in `FailureCounters`: in process (each node its own) or in
 * Redis (one count for the whole cluster). Redis counters that fail fall
 * back to this node's own counts, so a Redis outage weakens the limit to
 * per node but never stops sign-ins.
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from '../log/index.js'

/** Budgets of failures in one window; `Infinity` turns a budget off. */
export interface LoginLimits {
  readonly maxFailuresPerAccountAndAddress: number
  readonly maxFailuresPerAccount: number
  readonly maxFailuresPerAddress: number
  readonly windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({
  maxFailuresPerAccountAndAddress: 5,
  maxFailuresPerAccount: 50,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
})

/** A count and the milliseconds left in its window. */
export interface WindowCount {
  readonly count: number
  readonly remainingMs: number
}

/** A counter and the most it may reach in one window. */
export interface Budget {
  readonly key: string
  readonly max: number
}

/** Where failure counts are kept. Keys are opaque and carry no personal data. */
export interface FailureCounters {
  read(keys: readonly string[]): Promise<WindowCount[]>
  /** Adds one to each key; a key's window starts at its first failure. */
  increment(keys: readonly string[], windowMs: number): Promise<void>
  /**
   * Adds one to every budget's key unless one of them is already at its
   * max; then adds nothing and resolves with the longest wait, in ms, among
   * the full ones. Resolves with 0 when it counted. Atomic: concurrent calls
   * never take a key past its max.
   */
  incrementWithin(budgets: readonly Budget[], windowMs: number): Promise<number>
  /** Takes one back from each key that still has a count in its window. */
  decrement(keys: readonly string[]): Promise<void>
  clear(keys: readonly string[]): Promise<void>
}

/** Counts failures; answers whether another attempt is allowed. */
export class LoginLimiter {
  constructor(
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
    private readonly counters: FailureCounters = new MemoryFailureCounters(),
  ) {}

  /** Milliseconds until an attempt is allowed again, or 0 when it is allowed now. */
  async retryAfterMs(account: string, address: string): Promise<number> {
    const budgets = this.budgets(account, address)
    const counts = await this.counters.read(budgets.map((budget) => budget.key))
    let wait = 0
    counts.forEach((window, i) => {
      const max = budgets[i]?.max ?? Infinity
      if (window.count >= max) wait = Math.max(wait, window.remainingMs)
    })
    return wait
  }

  /**
   * Counts an attempt as a failure before it is made, unless a budget is
   * spent: then counts nothing and resolves with the milliseconds to wait.
   * Resolves with 0 when the attempt may go ahead; call `recordSuccess` if
   * it succeeds. An attempt that never reports back stays a failure.
   */
  async tryAttempt(account: string, address: string): Promise<number> {
    return this.counters.incrementWithin(this.budgets(account, address), this.limits.windowMs)
  }

  async recordFailure(account: string, address: string): Promise<void> {
    const keys = this.budgets(account, address).map((budget) => budget.key)
    await this.counters.increment(keys, this.limits.windowMs)
  }

  /**
   * A successful sign-in after `tryAttempt` clears the account's own counts
   * and takes back the one its attempt added to the address (never more:
   * one good password must not reset a spray from that address).
   */
  async recordSuccess(account: string, address: string): Promise<void> {
    await this.counters.clear([
      counterKey('pair', account, address),
      counterKey('account', account),
    ])
    await this.counters.decrement([counterKey('address', address)])
  }

  private budgets(account: string, address: string): Budget[] {
    const { limits } = this
    return [
      { key: counterKey('pair', account, address), max: limits.maxFailuresPerAccountAndAddress },
      { key: counterKey('account', account), max: limits.maxFailuresPerAccount },
      { key: counterKey('address', address), max: limits.maxFailuresPerAddress },
    ].filter((budget) => Number.isFinite(budget.max))
  }
}

/**
 * A key per budget: a hash, so neither emails nor addresses are kept in
 * plain text (Redis keys show up in monitoring tools).
 */
const counterKey = (kind: string, ...parts: string[]): string =>
  `${kind}:${createHash('sha256')
    .update(parts.map((part) => part.trim().toLowerCase()).join('\u0000'))
    .digest('base64url')
    .slice(0, 32)}`

/** Most keys one node's counters hold; the oldest go first past it. */
const MAX_MEMORY_KEYS = 100_000

/** Counts in this process. */
export class MemoryFailureCounters implements FailureCounters {
  private readonly windows = new Map<string, { count: number; endsAtMs: number }>()

  async read(keys: readonly string[]): Promise<WindowCount[]> {
    return this.readNow(keys)
  }

  private readNow(keys: readonly string[]): WindowCount[] {
    const now = Date.now()
    return keys.map((key) => {
      const window = this.windows.get(key)
      if (window === undefined) return { count: 0, remainingMs: 0 }
      if (window.endsAtMs <= now) {
        this.windows.delete(key)
        return { count: 0, remainingMs: 0 }
      }
      return { count: window.count, remainingMs: window.endsAtMs - now }
    })
  }

  async increment(keys: readonly string[], windowMs: number): Promise<void> {
    this.incrementNow(keys, windowMs)
  }

  private incrementNow(keys: readonly string[], windowMs: number): void {
    const now = Date.now()
    for (const key of keys) {
      const window = this.windows.get(key)
      if (window !== undefined && window.endsAtMs > now) {
        window.count++
        continue
      }
      this.windows.delete(key)
      this.windows.set(key, { count: 1, endsAtMs: now + windowMs })
      // Bound memory under a spray of distinct keys: drop the oldest.
      if (this.windows.size > MAX_MEMORY_KEYS)
        this.windows.delete(this.windows.keys().next().value as string)
    }
  }

  async incrementWithin(budgets: readonly Budget[], windowMs: number): Promise<number> {
    // No await between the check and the count: atomic in this process.
    const counts = this.readNow(budgets.map((budget) => budget.key))
    let wait = 0
    counts.forEach((window, i) => {
      if (window.count >= (budgets[i]?.max ?? Infinity)) wait = Math.max(wait, window.remainingMs)
    })
    if (wait > 0) return wait
    this.incrementNow(
      budgets.map((budget) => budget.key),
      windowMs,
    )
    return 0
  }

  async decrement(keys: readonly string[]): Promise<void> {
    const now = Date.now()
    for (const key of keys) {
      const window = this.windows.get(key)
      if (window !== undefined && window.endsAtMs > now && window.count > 0) window.count--
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.windows.delete(key)
  }
}

/**
 * `incrementWithin` in one Redis step. KEYS: the counters; ARGV[1]: the
 * window in ms; ARGV[1 + i]: the max of KEYS[i]. Answers the longest
 * remaining window among full counters, or 0 after adding one to each.
 * Limit: a Redis Cluster refuses a script over keys in several slots; the
 * keys would need one hash tag there.
 */
const INCREMENT_WITHIN_SCRIPT = `
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then ttl = tonumber(ARGV[1]) end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'PX', ARGV[1], 'NX')
  redis.call('INCR', key)
end
return 0`

/** Takes one from each counter that exists and is above 0 (DECR keeps its expiry). */
const DECREMENT_SCRIPT = `
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0`

/**
 * Counts in Redis, shared by every node. Each key is a counter whose
 * expiry is set by the failure that created it (SET NX PX, then INCR, which
 * keeps the expiry). Any Redis failure is logged and answered from
 * `fallback`, this node's own counts, which are kept in step meanwhile.
 */
export class RedisFailureCounters implements FailureCounters {
  private readonly fallback = new MemoryFailureCounters()

  /** `prefix` names the limiter: sign-ins and sign-ups count apart. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async read(keys: readonly string[]): Promise<WindowCount[]> {
    try {
      const pipeline = this.redis.pipeline()
      for (const key of keys) pipeline.get(this.name(key)).pttl(this.name(key))
      const replies = await pipeline.exec()
      if (replies === null) throw new Error('pipeline discarded')
      return keys.map((_, i) => {
        const [countError, count] = replies[2 * i] ?? []
        const [ttlError, ttl] = replies[2 * i + 1] ?? []
        if (countError || ttlError) throw countError ?? ttlError
        return { count: Number(count ?? 0), remainingMs: Math.max(0, Number(ttl ?? 0)) }
      })
    } catch (err) {
      this.logger.warn({ err }, 'sign-in counters unreadable in Redis; using this node’s')
      return this.fallback.read(keys)
    }
  }

  async increment(keys: readonly string[], windowMs: number): Promise<void> {
    await this.fallback.increment(keys, windowMs)
    try {
      const pipeline = this.redis.pipeline()
      for (const key of keys) {
        pipeline.set(this.name(key), 0, 'PX', windowMs, 'NX').incr(this.name(key))
      }
      const replies = await pipeline.exec()
      const failed = replies?.find(([error]) => error !== null)
      if (failed !== undefined) throw failed[0]
    } catch (err) {
      this.logger.warn({ err }, 'sign-in failure not counted in Redis')
    }
  }

  async incrementWithin(budgets: readonly Budget[], windowMs: number): Promise<number> {
    const names = budgets.map((budget) => this.name(budget.key))
    try {
      const maxes = budgets.map((budget) => String(budget.max))
      const reply = await this.redis.eval(
        INCREMENT_WITHIN_SCRIPT,
        names.length,
        ...names,
        String(windowMs),
        ...maxes,
      )
      const waitMs = Number(reply)
      if (!Number.isFinite(waitMs)) throw new Error(`unexpected reply ${String(reply)}`)
      // Kept in step, so a Redis outage later starts from these counts.
      if (waitMs === 0)
        await this.fallback.increment(
          budgets.map((budget) => budget.key),
          windowMs,
        )
      return waitMs
    } catch (err) {
      this.logger.warn({ err }, 'sign-in attempt not counted in Redis; using this node’s counts')
      return this.fallback.incrementWithin(budgets, windowMs)
    }
  }

  async decrement(keys: readonly string[]): Promise<void> {
    await this.fallback.decrement(keys)
    try {
      const names = keys.map((key) => this.name(key))
      await this.redis.eval(DECREMENT_SCRIPT, names.length, ...names)
    } catch (err) {
      this.logger.warn({ err }, 'sign-in counters not decremented in Redis')
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    await this.fallback.clear(keys)
    try {
      await this.redis.del(...keys.map((key) => this.name(key)))
    } catch (err) {
      this.logger.warn({ err }, 'sign-in counters not cleared in Redis')
    }
  }

  private name(key: string): string {
    return `${this.prefix}:${key}`
  }
}
