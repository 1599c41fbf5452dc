/**
 * Limits failed sign-ins per account and per address, in a fixed window.
 * In process; several nodes each keep their own counts, so a cluster allows
 * up to N times the budget.
 *
 * Limit: counts are per node (Redis-backed counters would make them
 * cluster-wide); they are forgotten on restart.
 */

/** Budgets of failed sign-ins. */
export interface LoginLimits {
  readonly maxFailuresPerAccount: number
  readonly maxFailuresPerAddress: number
  readonly windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({
  maxFailuresPerAccount: 5,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
})

interface Window {
  count: number
  startedAtMs: number
}

/** Counts failures; answers whether another attempt is allowed. */
export class LoginLimiter {
  private readonly byAccount = new Map<string, Window>()
  private readonly byAddress = new Map<string, Window>()

  constructor(private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {}

  /** Milliseconds until an attempt is allowed again, or 0 when it is allowed now. */
  retryAfterMs(account: string, address: string): number {
    return Math.max(
      this.waitFor(this.byAccount, account.toLowerCase(), this.limits.maxFailuresPerAccount),
      this.waitFor(this.byAddress, address, this.limits.maxFailuresPerAddress),
    )
  }

  recordFailure(account: string, address: string): void {
    this.bump(this.byAccount, account.toLowerCase())
    this.bump(this.byAddress, address)
  }

  /** A successful sign-in clears the account's failures (not the address's). */
  recordSuccess(account: string): void {
    this.byAccount.delete(account.toLowerCase())
  }

  private waitFor(map: Map<string, Window>, key: string, max: number): number {
    const window = map.get(key)
    if (window === undefined) return 0
    const remaining = window.startedAtMs + this.limits.windowMs - Date.now()
    if (remaining <= 0) {
      map.delete(key)
      return 0
    }
    return window.count >= max ? remaining : 0
  }

  private bump(map: Map<string, Window>, key: string): void {
    const now = Date.now()
    const window = map.get(key)
    if (window === undefined || now - window.startedAtMs >= this.limits.windowMs) {
      map.set(key, { count: 1, startedAtMs: now })
      // Bound memory under a spray of distinct keys: drop the oldest.
      if (map.size > 100_000) map.delete(map.keys().next().value as string)
      return
    }
    window.count++
  }
}
