import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createLogger } from '../log/index.js'
import {
  DEFAULT_LOGIN_LIMITS,
  type FailureCounters,
  LoginLimiter,
  type LoginLimits,
  MemoryFailureCounters,
  RedisFailureCounters,
} from './login-limiter.js'

const LIMITS: LoginLimits = {
  maxFailuresPerAccountAndAddress: 3,
  maxFailuresPerAccount: 6,
  maxFailuresPerAddress: 5,
  windowMs: 60_000,
}
const silent = createLogger({ level: 'silent' })

const failTimes = async (
  limiter: LoginLimiter,
  count: number,
  account: string,
  address: string,
): Promise<void> => {
  for (let i = 0; i < count; i++) await limiter.recordFailure(account, address)
}

/** The budget rules, run against each kind of counter. */
const describeBudgets = (kind: string, makeCounters: () => FailureCounters): void => {
  describe(`login limiter on ${kind} counters`, () => {
    const fresh = (): LoginLimiter => new LoginLimiter(LIMITS, makeCounters())
    const email = (): string => `${randomUUID()}@example.com`

    it('locks an account for the guessing address only, not for its owner elsewhere', async () => {
      const limiter = fresh()
      const victim = email()
      await failTimes(limiter, 3, victim, '203.0.113.9')

      const attackerWait = await limiter.retryAfterMs(victim, '203.0.113.9')
      expect(attackerWait).toBeGreaterThan(0)
      expect(attackerWait).toBeLessThanOrEqual(LIMITS.windowMs)
      expect(await limiter.retryAfterMs(victim, '198.51.100.1')).toBe(0)
      // Emails are compared without case or surrounding space.
      expect(await limiter.retryAfterMs(` ${victim.toUpperCase()}`, '203.0.113.9')).toBeGreaterThan(
        0,
      )
    })

    it('locks an account everywhere once guesses from many addresses pass its ceiling', async () => {
      const limiter = fresh()
      const victim = email()
      for (const address of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
        expect(await limiter.retryAfterMs(victim, address)).toBe(0)
        await failTimes(limiter, 2, victim, address)
      }
      expect(await limiter.retryAfterMs(victim, '192.0.2.200')).toBeGreaterThan(0)
    })

    it('limits one address spraying many accounts', async () => {
      const limiter = fresh()
      const address = `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
      for (let i = 0; i < 5; i++) await limiter.recordFailure(email(), address)
      expect(await limiter.retryAfterMs(email(), address)).toBeGreaterThan(0)
      expect(await limiter.retryAfterMs(email(), '10.255.255.1')).toBe(0)
    })

    it("clears the account's counts on success, never the address's", async () => {
      const limiter = fresh()
      const owner = email()
      const address = `172.16.${Math.floor(Math.random() * 250)}.1`
      await failTimes(limiter, 2, owner, address)
      expect(await limiter.tryAttempt(owner, address)).toBe(0)
      await limiter.recordSuccess(owner, address)
      await failTimes(limiter, 2, owner, address)
      expect(await limiter.retryAfterMs(owner, address)).toBe(0)
      await limiter.recordFailure(email(), address)
      expect(await limiter.retryAfterMs(email(), address)).toBeGreaterThan(0)
    })

    it('admits no more attempts than the budget when they all arrive at once', async () => {
      const limiter = fresh()
      const victim = email()
      const waits = await Promise.all(
        Array.from({ length: 12 }, () => limiter.tryAttempt(victim, '203.0.113.20')),
      )

      expect(waits.filter((wait) => wait === 0)).toHaveLength(3)
      expect(waits.filter((wait) => wait > 0 && wait <= LIMITS.windowMs)).toHaveLength(9)
      // Refused attempts count nowhere: the owner elsewhere is not locked out.
      expect(await limiter.tryAttempt(victim, '198.51.100.20')).toBe(0)
    })

    it('takes back the attempt of a success from the address budget', async () => {
      const limiter = fresh()
      const address = `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
      for (let i = 0; i < 8; i++) {
        const owner = email()
        expect(await limiter.tryAttempt(owner, address)).toBe(0)
        await limiter.recordSuccess(owner, address)
      }
      expect(await limiter.retryAfterMs(email(), address)).toBe(0)
    })
  })
}

describeBudgets('memory', () => new MemoryFailureCounters())

const redisClients: Redis[] = []
afterAll(() => {
  for (const client of redisClients) client.disconnect()
})
const openRedis = (url: string, options: { retry?: boolean } = {}): Redis => {
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: options.retry === false ? 0 : 2,
    enableOfflineQueue: options.retry !== false,
    ...(options.retry === false ? { retryStrategy: () => null } : {}),
  })
  client.on('error', () => undefined)
  redisClients.push(client)
  return client
}
const prefix = `quire-test-${randomUUID().slice(0, 8)}:limits`
describeBudgets(
  'Redis',
  () => new RedisFailureCounters(openRedis(inject('redisUrl')), prefix, silent),
)

describe('Redis failure counters', () => {
  it('share one count between nodes', async () => {
    const nodeA = new LoginLimiter(
      LIMITS,
      new RedisFailureCounters(openRedis(inject('redisUrl')), prefix, silent),
    )
    const nodeB = new LoginLimiter(
      LIMITS,
      new RedisFailureCounters(openRedis(inject('redisUrl')), prefix, silent),
    )
    const account = `${randomUUID()}@example.com`
    await failTimes(nodeA, 2, account, '192.0.2.50')
    await failTimes(nodeB, 1, account, '192.0.2.50')
    expect(await nodeA.retryAfterMs(account, '192.0.2.50')).toBeGreaterThan(0)
    expect(await nodeB.retryAfterMs(account, '192.0.2.50')).toBeGreaterThan(0)
  })

  it('keep no email or address in key names', async () => {
    const admin = openRedis(inject('redisUrl'))
    const limiter = new LoginLimiter(
      DEFAULT_LOGIN_LIMITS,
      new RedisFailureCounters(admin, `${prefix}-names`, silent),
    )
    await limiter.recordFailure('Visible.Person@example.com', '198.51.100.77')
    const names = await admin.keys(`${prefix}-names:*`)
    expect(names.length).toBe(3)
    expect(names.join(' ')).not.toMatch(/example|visible|198\.51/i)
    await admin.del(...names)
  })

  it("fall back to this node's counts when Redis is unreachable, and never throw", async () => {
    const unreachable = openRedis('redis://127.0.0.1:1', { retry: false })
    const limiter = new LoginLimiter(
      LIMITS,
      new RedisFailureCounters(unreachable, `${prefix}-down`, silent),
    )
    const account = `${randomUUID()}@example.com`
    await failTimes(limiter, 3, account, '192.0.2.60')
    expect(await limiter.retryAfterMs(account, '192.0.2.60')).toBeGreaterThan(0)
    expect(await limiter.retryAfterMs(account, '192.0.2.61')).toBe(0)
  })
})
