import { afterEach, describe, expect, it, vi } from 'vitest'
import { chargeMessage, connectionBudget, DocumentBudgets, TokenBucket } from './read-throttle.js'

describe('TokenBucket', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('lets a burst through, then asks for the time the debt takes to refill', () => {
    vi.useFakeTimers({ toFake: ['performance'] })
    const bucket = new TokenBucket(100, 200)
    for (let i = 0; i < 200; i++) expect(bucket.take(1)).toBe(0)
    expect(bucket.take(1)).toBe(10)
    vi.advanceTimersByTime(10)
    expect(bucket.take(1)).toBe(10)
    vi.advanceTimersByTime(5_000)
    expect(bucket.isFull).toBe(true)
  })
})

describe('chargeMessage', () => {
  it('names the budget that asks for the longest wait', () => {
    const limits = {
      messagesPerSecond: 1000,
      bytesPerSecond: 1000,
      burstBytes: 1000,
      documentMessagesPerSecond: 0,
    }
    const documents = new DocumentBudgets(0)
    const budget = connectionBudget(limits)
    expect(chargeMessage(budget, documents, 'd', 600)).toEqual({ waitMs: 0, reason: null })
    const second = chargeMessage(budget, documents, 'd', 600)
    expect(second.reason).toBe('connection_bytes')
    expect(second.waitMs).toBeGreaterThan(150)
    expect(documents.size).toBe(0)
  })

  it('shares one budget between the connections of a document', () => {
    const limits = {
      messagesPerSecond: 0,
      bytesPerSecond: 0,
      burstBytes: 0,
      documentMessagesPerSecond: 10,
    }
    const documents = new DocumentBudgets(10)
    const [a, b] = [connectionBudget(limits), connectionBudget(limits)]
    for (let i = 0; i < 10; i++) {
      expect(chargeMessage(a, documents, 'shared', 1).reason).toBeNull()
      expect(chargeMessage(b, documents, 'shared', 1).reason).toBeNull()
    }
    expect(chargeMessage(a, documents, 'shared', 1).reason).toBe('document_messages')
    expect(chargeMessage(b, documents, 'other', 1).reason).toBeNull()
    documents.close()
    expect(documents.size).toBe(0)
  })
})
