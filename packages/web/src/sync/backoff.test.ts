import { describe, expect, it } from 'vitest'
import { RECONNECT_BASE_MS, RECONNECT_CAP_MS, reconnectDelayMs } from './backoff.js'

describe('reconnectDelayMs', () => {
  it('doubles the ceiling per attempt and never passes the cap', () => {
    expect(reconnectDelayMs(0, () => 0.999)).toBe(Math.floor(RECONNECT_BASE_MS * 0.999))
    expect(reconnectDelayMs(3, () => 0.5)).toBe(RECONNECT_BASE_MS * 4)
    expect(reconnectDelayMs(40, () => 0.999)).toBeLessThan(RECONNECT_CAP_MS)
    expect(reconnectDelayMs(40, () => 0.999)).toBeGreaterThan(RECONNECT_CAP_MS * 0.99)
  })

  it('spreads delays over the whole range (full jitter)', () => {
    expect(reconnectDelayMs(5, () => 0)).toBe(0)
  })
})
