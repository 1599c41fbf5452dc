/**
 * Rate limits as backpressure. A CRDT update that is dropped breaks every
 * later update of its client (they depend on it), so a socket over its
 * budget is never answered by discarding: the node stops reading it, TCP
 * pushes back on the client, and reading resumes once the budget refills.
 * The same pause applies while the node's persist queue is over its bound
 * (a stalled database), so memory stays bounded instead of queueing edits.
 *
 * Budgets are token buckets: per connection (messages and bytes) and per
 * document on this node (messages). A message is always processed once
 * read; it is the next read that waits.
 */

/** Budgets; 0 turns a budget off. */
export interface ReadThrottleLimits {
  /** Messages per second one connection may send; bursts up to twice that. */
  readonly messagesPerSecond: number
  /** Bytes per second one connection may send; bursts up to `burstBytes`. */
  readonly bytesPerSecond: number
  /** Largest byte burst; at least the largest message, or it could never be sent. */
  readonly burstBytes: number
  /** Messages per second all connections to one document on this node may send. */
  readonly documentMessagesPerSecond: number
}

/** A token bucket refilled continuously. */
export class TokenBucket {
  private tokens: number
  private updatedAt = performance.now()

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity
  }

  /** Takes `amount` (the balance may go negative); returns ms until it is back to zero. */
  take(amount: number): number {
    this.refill()
    this.tokens -= amount
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000)
  }

  /** Whether the bucket is full again (nothing owed): it may be forgotten. */
  get isFull(): boolean {
    this.refill()
    return this.tokens >= this.capacity
  }

  private refill(): void {
    const now = performance.now()
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond,
    )
    this.updatedAt = now
  }
}

/** Which budget paused a socket (a metric label). */
export type ThrottleReason = 'connection_messages' | 'connection_bytes' | 'document_messages'

/** The buckets of one connection. */
export interface ConnectionBudget {
  readonly messages: TokenBucket | null
  readonly bytes: TokenBucket | null
}

/** Per-document buckets of one node, forgotten once full again. */
export class DocumentBudgets {
  private readonly buckets = new Map<string, TokenBucket>()
  private sweepTimer: NodeJS.Timeout | null = null

  constructor(private readonly messagesPerSecond: number) {}

  /** Charges one message to `docId`; returns ms until its budget is back to zero. */
  take(docId: string): number {
    if (this.messagesPerSecond <= 0) return 0
    let bucket = this.buckets.get(docId)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.messagesPerSecond, this.messagesPerSecond * 2)
      this.buckets.set(docId, bucket)
      this.scheduleSweep()
    }
    return bucket.take(1)
  }

  /** Number of documents with a budget in use (tests check it returns to zero). */
  get size(): number {
    return this.buckets.size
  }

  close(): void {
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer)
    this.sweepTimer = null
    this.buckets.clear()
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== null) return
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null
      for (const [docId, bucket] of this.buckets) if (bucket.isFull) this.buckets.delete(docId)
      if (this.buckets.size > 0) this.scheduleSweep()
    }, 5_000)
    this.sweepTimer.unref()
  }
}

/** The budget of a connection with no per-connection limits: one object serves them all. */
const UNLIMITED: ConnectionBudget = Object.freeze({ messages: null, bytes: null })

/** Buckets for a new connection under `limits`. */
export const connectionBudget = (limits: ReadThrottleLimits): ConnectionBudget =>
  limits.messagesPerSecond <= 0 && limits.bytesPerSecond <= 0 ? UNLIMITED : createBudget(limits)

const createBudget = (limits: ReadThrottleLimits): ConnectionBudget => ({
  messages:
    limits.messagesPerSecond > 0
      ? new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * 2)
      : null,
  bytes:
    limits.bytesPerSecond > 0
      ? new TokenBucket(limits.bytesPerSecond, Math.max(limits.burstBytes, limits.bytesPerSecond))
      : null,
})

/**
 * Charges one message of `bytes` to a connection and its document; returns
 * how long to stop reading and which budget asked for it (the longest wait).
 */
export const chargeMessage = (
  budget: ConnectionBudget,
  documents: DocumentBudgets,
  docId: string,
  bytes: number,
): { waitMs: number; reason: ThrottleReason | null } => {
  const waits: [number, ThrottleReason][] = [
    [budget.messages?.take(1) ?? 0, 'connection_messages'],
    [budget.bytes?.take(bytes) ?? 0, 'connection_bytes'],
    [documents.take(docId), 'document_messages'],
  ]
  let longest: [number, ThrottleReason | null] = [0, null]
  for (const wait of waits) if (wait[0] > longest[0]) longest = wait
  return { waitMs: longest[0], reason: longest[1] }
}
