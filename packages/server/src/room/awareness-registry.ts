/**
 * The awareness (presence) states of one room, with each awareness client id
 * bound to the session that first published it.
 *
 * y-protocols' Awareness accepts any non-null state for any client id from
 * anyone, so one client could rename or remove another. Here a session may
 * only write the ids it owns; ids are released when the session ends, and
 * the server then publishes their removal itself, which is how a client that
 * vanished without a close frame disappears for everyone.
 *
 * A released id is remembered, with its removal's clock, for as long as
 * clients remember removals (`REMOTE_AWARENESS_TTL_MS`). y-websocket clients
 * echo every change they hear, removals included, so the first message
 * about a departed id is often another client's echo of its removal; were
 * that enough to claim the id, the client itself, reconnecting a moment
 * later, would be refused as a stranger and stay invisible. So a removed id
 * is claimed only by a present state with a higher clock than its removal:
 * an echo never has one, the returning client does as soon as it renews its
 * state (the web app does on every connection; y-websocket's provider at its
 * next 15 s renewal, which peers need anyway to accept it again).
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
  /** Null once removed: the record then only remembers the removal's clock. */
  state: Record<string, unknown> | null
  /** The session (or another node) that may write it; `RELEASED` after its session ended. */
  owner: object
  /** Set for entries published by another node. */
  remoteNodeId: string | null
  updatedAtMs: number
}

/** Owner of the records of sessions that ended. */
const RELEASED: object = Object.freeze({})

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
        if (record.state === null) {
          // A removed id: echoes of it (no newer clock) are dropped quietly;
          // its client, returning with a renewed state, takes it back.
          if (entry.state === null || entry.clock <= record.clock) continue
          this.forget(record.owner, entry.clientId)
          record = undefined
        } else {
          rejected = 'owned-by-another-session'
          continue
        }
      }
      if (record === undefined && entry.state === null) continue
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
      // A local session's id stays local; a released one goes to whichever
      // node its client returned to, once that node sends a newer state.
      if (record !== undefined && record.remoteNodeId === null && record.owner !== RELEASED)
        continue
      const isKnown = record !== undefined && (record.owner === owner || record.owner === RELEASED)
      if (isKnown && !isNewer(entry, record)) continue
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
   * Releases every id `owner` held and returns the removals to broadcast.
   * A removal keeps the state's clock: peers holding the state accept a
   * removal at its own clock (y-protocols), and the client, coming back,
   * needs only one renewal to be newer than it.
   */
  release(owner: object): AwarenessEntry[] {
    const ids = this.idsByOwnerMap?.get(owner)
    if (ids === undefined) return []
    this.idsByOwner.delete(owner)
    this.dropOldRemovals()
    const removals: AwarenessEntry[] = []
    const now = Date.now()
    for (const clientId of ids) {
      const record = this.records.get(clientId)
      if (record === undefined) continue
      if (record.state !== null) removals.push({ clientId, clock: record.clock, state: null })
      this.records.set(clientId, {
        clock: record.clock,
        state: null,
        owner: RELEASED,
        remoteNodeId: null,
        updatedAtMs: now,
      })
    }
    return removals
  }

  /** Every present (non-null) state, for a newly joined or asking session. */
  snapshot(): AwarenessEntry[] {
    const entries: AwarenessEntry[] = []
    if (this.recordsById === null) return entries
    const expiredBefore = Date.now() - REMOTE_AWARENESS_TTL_MS
    for (const [clientId, record] of this.recordsById) {
      const isExpiring = record.remoteNodeId !== null || record.owner === RELEASED
      if (isExpiring && record.updatedAtMs < expiredBefore) {
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

  /**
   * Forgets removals older than clients remember them, so a room's memory is
   * bounded by the ids seen in the last `REMOTE_AWARENESS_TTL_MS`.
   */
  private dropOldRemovals(): void {
    if (this.recordsById === null) return
    const before = Date.now() - REMOTE_AWARENESS_TTL_MS
    for (const [clientId, record] of this.recordsById) {
      if (record.owner === RELEASED && record.updatedAtMs < before) this.records.delete(clientId)
    }
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
