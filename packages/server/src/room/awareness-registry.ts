/**
 * The awareness (presence) states of one room, with each awareness client id
 * bound to the session that first published it.
 *
 * y-protocols' Awareness accepts any non-null state for any client id from
 * anyone, so one client could rename or remove another. Here a session may
 * only write the ids it owns; ids are released when the session ends, and
 * the server then publishes their removal itself, which is how a client that
 * vanished without a close frame disappears for everyone.
 */
import type { AwarenessEntry } from '@quire/protocol'

/**
 * Most awareness client ids one session may own. A provider uses one; a few
 * more allow for a page that recreates its provider.
 */
export const MAX_AWARENESS_IDS_PER_SESSION = 8

/**
 * How long presence from another node lives without renewal, in ms. Clients
 * renew every 15 s (y-protocols); a node that died never sends removals, so
 * its clients' entries expire here, as clients expire them after 30 s.
 */
export const REMOTE_AWARENESS_TTL_MS = 30_000

interface AwarenessRecord {
  clock: number
  state: Record<string, unknown> | null
  owner: object
  /** Set for entries published by another node. */
  remoteNodeId: string | null
  updatedAtMs: number
}

/** Why an awareness entry was not applied. */
export type AwarenessRejection = 'owned-by-another-session' | 'too-many-ids'

/** Result of applying a session's awareness entries. */
export interface AwarenessApplyResult {
  /** Entries that changed the registry; to be broadcast to other sessions. */
  readonly accepted: AwarenessEntry[]
  readonly rejected: AwarenessRejection | null
}

/** Awareness states of one room, keyed by awareness client id. */
export class AwarenessRegistry {
  // Created on first use: most rooms of a node are idle documents whose
  // clients publish no presence, and three empty Maps cost about 600 bytes.
  private recordsById: Map<number, AwarenessRecord> | null = null
  private idsByOwnerMap: Map<object, Set<number>> | null = null
  private remoteOwnersMap: Map<string, object> | null = null

  private get records(): Map<number, AwarenessRecord> {
    return (this.recordsById ??= new Map())
  }

  private get idsByOwner(): Map<object, Set<number>> {
    return (this.idsByOwnerMap ??= new Map())
  }

  private get remoteOwners(): Map<string, object> {
    return (this.remoteOwnersMap ??= new Map())
  }

  /**
   * Applies entries sent by `owner` (a session). Stale clocks are ignored as
   * y-protocols does; entries for ids another session owns are refused.
   */
  apply(owner: object, entries: readonly AwarenessEntry[]): AwarenessApplyResult {
    const accepted: AwarenessEntry[] = []
    let rejected: AwarenessRejection | null = null
    for (const entry of entries) {
      let record = this.records.get(entry.clientId)
      if (record !== undefined && record.remoteNodeId !== null && this.isExpired(record)) {
        // Another node's entry that was not renewed: that node is gone (or
        // its client moved here). Until then the id stays theirs: a session
        // here cannot prove it is the same client, and y-websocket clients
        // echo every state they hear about.
        this.forget(record.owner, entry.clientId)
        record = undefined
      }
      if (record !== undefined && record.owner !== owner) {
        rejected = 'owned-by-another-session'
        continue
      }
      if (record === undefined && !this.claim(owner, entry.clientId)) {
        rejected = 'too-many-ids'
        continue
      }
      if (record !== undefined && !isNewer(entry, record)) continue
      this.records.set(entry.clientId, {
        clock: entry.clock,
        state: entry.state,
        owner,
        remoteNodeId: null,
        updatedAtMs: Date.now(),
      })
      accepted.push(entry)
    }
    return { accepted, rejected }
  }

  /**
   * Applies entries another node published for its own sessions (already
   * checked there). Ids held by a local session stay local. Returns the
   * entries that changed the registry.
   */
  applyRemote(nodeId: string, entries: readonly AwarenessEntry[]): AwarenessEntry[] {
    let owner = this.remoteOwners.get(nodeId)
    if (owner === undefined) {
      owner = {}
      this.remoteOwners.set(nodeId, owner)
    }
    const accepted: AwarenessEntry[] = []
    for (const entry of entries) {
      const record = this.records.get(entry.clientId)
      if (record !== undefined && record.remoteNodeId === null) continue
      if (record !== undefined && record.owner === owner && !isNewer(entry, record)) continue
      if (record !== undefined && record.owner !== owner) this.forget(record.owner, entry.clientId)
      this.records.set(entry.clientId, {
        clock: entry.clock,
        state: entry.state,
        owner,
        remoteNodeId: nodeId,
        updatedAtMs: Date.now(),
      })
      accepted.push(entry)
    }
    return accepted
  }

  /**
   * Forgets every id `owner` held and returns the removals to broadcast
   * (clock advanced so every peer accepts them).
   */
  release(owner: object): AwarenessEntry[] {
    const ids = this.idsByOwnerMap?.get(owner)
    if (ids === undefined) return []
    this.idsByOwner.delete(owner)
    const removals: AwarenessEntry[] = []
    for (const clientId of ids) {
      const record = this.records.get(clientId)
      this.records.delete(clientId)
      if (record?.state != null) removals.push({ clientId, clock: record.clock + 1, state: null })
    }
    return removals
  }

  /** Every present (non-null) state, for a newly joined or asking session. */
  snapshot(): AwarenessEntry[] {
    const entries: AwarenessEntry[] = []
    if (this.recordsById === null) return entries
    const expiredBefore = Date.now() - REMOTE_AWARENESS_TTL_MS
    for (const [clientId, record] of this.recordsById) {
      if (record.remoteNodeId !== null && record.updatedAtMs < expiredBefore) {
        this.records.delete(clientId)
        continue
      }
      if (record.state !== null)
        entries.push({ clientId, clock: record.clock, state: record.state })
    }
    return entries
  }

  /** Number of ids with a present state. */
  get size(): number {
    let count = 0
    for (const record of this.recordsById?.values() ?? []) if (record.state !== null) count++
    return count
  }

  private isExpired(record: AwarenessRecord): boolean {
    return record.updatedAtMs < Date.now() - REMOTE_AWARENESS_TTL_MS
  }

  private forget(owner: object, clientId: number): void {
    this.records.delete(clientId)
    this.idsByOwner.get(owner)?.delete(clientId)
  }

  private claim(owner: object, clientId: number): boolean {
    let ids = this.idsByOwner.get(owner)
    if (ids === undefined) {
      ids = new Set()
      this.idsByOwner.set(owner, ids)
    }
    if (ids.size >= MAX_AWARENESS_IDS_PER_SESSION) return false
    ids.add(clientId)
    return true
  }
}

/** y-protocols' rule: a higher clock wins; at equal clocks only a removal does. */
const isNewer = (entry: AwarenessEntry, record: AwarenessRecord): boolean =>
  entry.clock > record.clock ||
  (entry.clock === record.clock && entry.state === null && record.state !== null)
