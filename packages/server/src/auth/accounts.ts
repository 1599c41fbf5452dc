/**
 * Users, organisations and their members, in SQL.
 */
import type { SqlClient } from '../store/index.js'
import { createId } from './tokens.js'

/** A user as the API shows it: never the password hash. */
export interface User {
  readonly id: string
  readonly email: string
  readonly name: string
}

/** An organisation and the caller's role in it. */
export interface Membership {
  readonly id: string
  readonly name: string
  readonly role: OrganisationRole
}

export type OrganisationRole = 'admin' | 'member'

/** A user row including what sign-in needs. */
export interface UserCredentials extends User {
  readonly passwordHash: string
}

/** Accounts and organisations in SQL. */
export class Accounts {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Creates a user and a personal organisation they administer. Returns null
   * when the email is taken.
   */
  async createUser(
    email: string,
    name: string,
    passwordHash: string,
  ): Promise<{ user: User; organisation: Membership } | null> {
    return this.sql.transaction(async (tx) => {
      const existing = await tx.query('SELECT 1 FROM users WHERE lower(email) = lower($1)', [email])
      if (existing.length > 0) return null
      const user: User = { id: createId(), email, name }
      await tx.query('INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, $3, $4)', [
        user.id,
        email,
        name,
        passwordHash,
      ])
      const organisation: Membership = {
        id: createId(),
        name: `${name}'s organisation`,
        role: 'admin',
      }
      await tx.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [
        organisation.id,
        organisation.name,
      ])
      await tx.query(
        "INSERT INTO organisation_members (org_id, user_id, role) VALUES ($1, $2, 'admin')",
        [organisation.id, user.id],
      )
      return { user, organisation }
    })
  }

  async findByEmail(email: string): Promise<UserCredentials | null> {
    const rows = await this.sql.query<{
      id: string
      email: string
      name: string
      password_hash: string
    }>('SELECT id, email, name, password_hash FROM users WHERE lower(email) = lower($1)', [email])
    const row = rows[0]
    return row === undefined
      ? null
      : { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash }
  }

  async findById(userId: string): Promise<UserCredentials | null> {
    const rows = await this.sql.query<{
      id: string
      email: string
      name: string
      password_hash: string
    }>('SELECT id, email, name, password_hash FROM users WHERE id = $1', [userId])
    const row = rows[0]
    return row === undefined
      ? null
      : { id: row.id, email: row.email, name: row.name, passwordHash: row.password_hash }
  }

  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.sql.query(
      'UPDATE users SET password_hash = $2, password_changed_at = now() WHERE id = $1',
      [userId, passwordHash],
    )
  }

  /** The organisations a user belongs to, with their role. */
  async membershipsOf(userId: string): Promise<Membership[]> {
    return this.sql.query<Membership>(
      `SELECT o.id, o.name, m.role FROM organisation_members m
       JOIN organisations o ON o.id = m.org_id WHERE m.user_id = $1 ORDER BY o.created_at`,
      [userId],
    )
  }

  async roleIn(orgId: string, userId: string): Promise<OrganisationRole | null> {
    const rows = await this.sql.query<{ role: OrganisationRole }>(
      'SELECT role FROM organisation_members WHERE org_id = $1 AND user_id = $2',
      [orgId, userId],
    )
    return rows[0]?.role ?? null
  }

  async createOrganisation(name: string, adminUserId: string): Promise<Membership> {
    const organisation: Membership = { id: createId(), name, role: 'admin' }
    await this.sql.transaction(async (tx) => {
      await tx.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [
        organisation.id,
        name,
      ])
      await tx.query(
        "INSERT INTO organisation_members (org_id, user_id, role) VALUES ($1, $2, 'admin')",
        [organisation.id, adminUserId],
      )
    })
    return organisation
  }

  /** Adds (or changes the role of) a member; false when no user has that email. */
  async setMember(orgId: string, email: string, role: OrganisationRole): Promise<User | null> {
    const user = await this.findByEmail(email)
    if (user === null) return null
    await this.sql.query(
      `INSERT INTO organisation_members (org_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
      [orgId, user.id, role],
    )
    return { id: user.id, email: user.email, name: user.name }
  }

  /** Removes a member and their document roles in that organisation. */
  async removeMember(orgId: string, userId: string): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('DELETE FROM organisation_members WHERE org_id = $1 AND user_id = $2', [
        orgId,
        userId,
      ])
      await tx.query(
        'DELETE FROM document_members WHERE user_id = $2 AND doc_id IN (SELECT id FROM documents WHERE org_id = $1)',
        [orgId, userId],
      )
    })
  }

  async membersOf(orgId: string): Promise<(User & { role: OrganisationRole })[]> {
    return this.sql.query(
      `SELECT u.id, u.email, u.name, m.role FROM organisation_members m
       JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 ORDER BY u.email`,
      [orgId],
    )
  }
}
