/**
 * Redis key names. Every per-document key carries the document id as a hash
 * tag (`{docId}`), so all keys of one document live in one Redis Cluster
 * slot and per-document commands work unchanged on a cluster.
 */

/**
 * The key and channel names of one Quire deployment. Every name starts with
 * the deployment's prefix, so several deployments (or test runs) can share
 * one Redis without seeing each other's documents or work.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The stream of a document's updates. Entry fields: see `StreamField`. */
  updatesStream(docId: string): string {
    return `${this.prefix}:{${docId}}:updates`
  }

  /** Channel of a document's presence changes. */
  awarenessChannel(docId: string): string {
    return `${this.prefix}:{${docId}}:awareness`
  }

  /** Channel on which persisters announce a document's newly persisted stream position. */
  savedChannel(docId: string): string {
    return `${this.prefix}:{${docId}}:saved`
  }

  /** The last stream id of a document committed to PostgreSQL. */
  persisted(docId: string): string {
    return `${this.prefix}:{${docId}}:persisted`
  }

  /** Work queue of persisters: one entry (field `doc`) per appended update. */
  get persistQueue(): string {
    return `${this.prefix}:persist-queue`
  }

  /**
   * A random value set when Redis first sees this deployment. If it
   * changes, Redis lost its data (a restart without persistence) and nodes
   * resynchronise.
   */
  get epoch(): string {
    return `${this.prefix}:epoch`
  }

  /** The document id in a per-document stream key or channel name, or null. */
  docIdOf(name: string): string | null {
    if (!name.startsWith(`${this.prefix}:{`)) return null
    const end = name.lastIndexOf('}:')
    return end < 0 ? null : name.slice(this.prefix.length + 2, end)
  }
}

/** Consumer group of the persisters on the persist queue. */
export const PERSISTER_GROUP = 'persisters'

/** The key prefix of a deployment that sets none. */
export const DEFAULT_REDIS_PREFIX = 'quire'

/** Field names of an update stream entry. */
export const StreamField = {
  /** The update bytes (Yjs V1). */
  data: 'd',
  /** Node that applied it first; that node does not apply it again. */
  origin: 'o',
  /** Idempotency key in the update log. */
  busId: 'b',
  user: 'u',
  conn: 'c',
  /** Sign-in session of the connection (absent in entries written before it existed). */
  session: 's',
  /** Server receive time, epoch ms. */
  receivedAt: 't',
} as const

/** Compares two stream ids (`ms-seq`); negative when `a` is older. */
export const compareStreamIds = (a: string, b: string): number => {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number)
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number)
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq
}

/** Parses a flat `[field, value, ...]` list of Buffers into a map of field → value. */
export const readFields = (flat: readonly Buffer[]): Map<string, Buffer> => {
  const fields = new Map<string, Buffer>()
  for (let i = 0; i + 1 < flat.length; i += 2) {
    fields.set((flat[i] as Buffer).toString('utf8'), flat[i + 1] as Buffer)
  }
  return fields
}
