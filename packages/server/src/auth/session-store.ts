/**
 * Sessions: one row per session family, holding the current refresh token's
 * hash. Every refresh rotates the token; presenting the previous token
 * again is allowed for a short grace window (two tabs refreshing at the same
 * moment, neither getting a second successor); presenting it later, or any
 * older token of the family, revokes the whole family, since only a stolen
 * copy would be used that late.
 */
import type { SqlClient } from '../store/index.js'
import { createId, createRefreshToken, hashRefreshToken } from './tokens.js'

/** Lifetimes of sessions. */
export interface SessionPolicy {
  /** Absolute lifetime of a session family, seconds. */
  readonly refreshTokenTtlS: number
  /** A session unused for this long ends, seconds. */
  readonly refreshIdleTtlS: number
  /** How long the previous refresh token still works after a rotation, ms. */
  readonly rotationGraceMs: number
}

/** Outcome of presenting a refresh token. */
export type RefreshOutcome =
  | {
      readonly ok: true
      readonly userId: string
      readonly sessionId: string
      readonly refreshToken: string | null
    }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'revoked' }
  | { readonly ok: false; readonly reason: 'reused'; readonly sessionId: string }

/** A new session: its id and first refresh token. */
export interface NewSession {
  readonly sessionId: string
  readonly refreshToken: string
}

interface SessionRow {
  id: string
  user_id: string
  refresh_hash: string
  previous_hash: string | null
  rotated_ms: number
  last_used_ms: number
  expires_ms: number
  revoked: boolean
}

const SESSION_COLUMNS = `id, user_id, refresh_hash, previous_hash,
  (EXTRACT(EPOCH FROM rotated_at) * 1000)::float8 AS rotated_ms,
  (EXTRACT(EPOCH FROM last_used_at) * 1000)::float8 AS last_used_ms,
  (EXTRACT(EPOCH FROM expires_at) * 1000)::float8 AS expires_ms,
  revoked_at IS NOT NULL AS revoked`

/** Sessions in SQL. */
export class SessionStore {
  constructor(
    private readonly sql: SqlClient,
    private readonly policy: SessionPolicy,
  ) {}

  /** Starts a session family for `userId`. */
  async create(userId: string): Promise<NewSession> {
    const sessionId = createId()
    const refreshToken = createRefreshToken()
    await this.sql.query(
      `INSERT INTO sessions (id, user_id, refresh_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [sessionId, userId, hashRefreshToken(refreshToken), this.policy.refreshTokenTtlS],
    )
    return { sessionId, refreshToken }
  }

  /** Rotates the refresh token (see the module comment for reuse and grace). */
  async refresh(refreshToken: string): Promise<RefreshOutcome> {
    const presented = hashRefreshToken(refreshToken)
    const current = await this.findBy('refresh_hash', presented)
    if (current !== null) {
      const invalid = this.checkUsable(current)
      if (invalid !== null) return { ok: false, reason: invalid }
      const successor = createRefreshToken()
      // Conditional on the hash still being current: of two concurrent
      // refreshes with one token, exactly one rotates.
      const rotated = await this.sql.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE sessions SET refresh_hash = $1, previous_hash = $2, rotated_at = now(), last_used_at = now()
           WHERE id = $3 AND refresh_hash = $2 AND revoked_at IS NULL RETURNING id`,
          [hashRefreshToken(successor), presented, current.id],
        )
        if (rows.length === 1) {
          await tx.query('INSERT INTO retired_refresh_tokens (hash, session_id) VALUES ($1, $2)', [
            presented,
            current.id,
          ])
        }
        return rows
      })
      if (rotated.length === 1) {
        return { ok: true, userId: current.user_id, sessionId: current.id, refreshToken: successor }
      }
    }
    const retired = await this.sql.query<{ session_id: string }>(
      'SELECT session_id FROM retired_refresh_tokens WHERE hash = $1',
      [presented],
    )
    const familyId = retired[0]?.session_id
    if (familyId === undefined) return { ok: false, reason: 'unknown' }
    const previous = await this.findBy('id', familyId)
    if (previous === null) return { ok: false, reason: 'unknown' }
    const invalid = this.checkUsable(previous)
    if (invalid !== null) return { ok: false, reason: invalid }
    const isLatestPredecessor = previous.previous_hash === presented
    if (isLatestPredecessor && Date.now() - previous.rotated_ms <= this.policy.rotationGraceMs) {
      // The other tab's refresh already set the successor cookie.
      return { ok: true, userId: previous.user_id, sessionId: previous.id, refreshToken: null }
    }
    await this.revoke(previous.id, 'refresh token reused')
    return { ok: false, reason: 'reused', sessionId: previous.id }
  }

  /** Ends one session family; idempotent. */
  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.sql.query(
      'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL',
      [sessionId, reason],
    )
  }

  /** Ends every session of a user; returns their ids. */
  async revokeAllOf(userId: string, reason: string): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
       WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      [userId, reason],
    )
    return rows.map((row) => row.id)
  }

  /** Whether a session is revoked, expired or unknown. */
  async isEnded(sessionId: string): Promise<boolean> {
    const rows = await this.sql.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`,
      [sessionId],
    )
    const row = rows[0]
    return row === undefined || this.checkUsable(row) !== null
  }

  private async findBy(
    column: 'refresh_hash' | 'previous_hash' | 'id',
    hash: string,
  ): Promise<SessionRow | null> {
    const rows = await this.sql.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE ${column} = $1`,
      [hash],
    )
    return rows[0] ?? null
  }

  private checkUsable(row: SessionRow): 'expired' | 'revoked' | null {
    if (row.revoked) return 'revoked'
    const now = Date.now()
    if (now >= row.expires_ms) return 'expired'
    if (now - row.last_used_ms >= this.policy.refreshIdleTtlS * 1000) return 'expired'
    return null
  }
}
