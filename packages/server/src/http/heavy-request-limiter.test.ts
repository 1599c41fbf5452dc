import { describe, expect, it } from 'vitest'
import { createHeavyRequestLimiter } from './heavy-request-limiter.js'

describe('createHeavyRequestLimiter', () => {
  it('admits maxPerUser at once per user, one import, and frees them on release', () => {
    const limiter = createHeavyRequestLimiter({ maxPerUser: 2, perMinute: 0, maxPerNode: 0 })
    const first = limiter.tryAcquire('u', 'import')
    expect(first.ok).toBe(true)
    expect(limiter.tryAcquire('u', 'import')).toMatchObject({ ok: false, reason: 'user-busy' })
    const second = limiter.tryAcquire('u', 'export')
    expect(second.ok).toBe(true)
    expect(limiter.tryAcquire('u', 'changes')).toMatchObject({ ok: false, reason: 'user-busy' })
    expect(limiter.tryAcquire('v', 'import').ok).toBe(true)
    if (first.ok) first.release()
    expect(limiter.tryAcquire('u', 'import').ok).toBe(true)
  })

  it('refuses past the per-minute budget with the seconds until the next token', () => {
    let now = 0
    const limiter = createHeavyRequestLimiter(
      { maxPerUser: 0, perMinute: 6, burst: 2, maxPerNode: 0 },
      () => now,
    )
    expect(limiter.tryAcquire('u', 'export').ok).toBe(true)
    expect(limiter.tryAcquire('u', 'export').ok).toBe(true)
    expect(limiter.tryAcquire('u', 'export')).toEqual({
      ok: false,
      reason: 'user-rate',
      retryAfterS: 10,
    })
    now = 10_000
    expect(limiter.tryAcquire('u', 'export').ok).toBe(true)
  })

  it('refuses past the node budget, whoever asks', () => {
    const limiter = createHeavyRequestLimiter({ maxPerUser: 0, perMinute: 0, maxPerNode: 1 })
    expect(limiter.tryAcquire('u', 'restore').ok).toBe(true)
    expect(limiter.tryAcquire('v', 'restore')).toMatchObject({ ok: false, reason: 'node-busy' })
  })
})
