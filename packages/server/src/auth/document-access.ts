/**
 * Documents as the API sees them, and who may do what with them. A user's
 * role on a document is its document role, or `owner` for an admin of its
 * organisation; a user outside the organisation has none, exactly like a
 * document that does not exist.
 */
import type { SqlClient } from '../store/index.js'
import { createId } from './tokens.js'

/** Roles on a document, most powerful first. */
export type DocumentRole = 'owner' | 'editor' | 'commenter' | 'viewer'

export const DOCUMENT_ROLES: readonly DocumentRole[] = ['owner', 'editor', 'commenter', 'viewer']

/** Whether a role may change the document's content. */
export const canEdit = (role: DocumentRole): boolean => role === 'owner' || role === 'editor'

/** A document's metadata and the caller's role. */
export interface DocumentInfo {
  readonly id: string
  readonly orgId: string
  readonly title: string
  readonly role: DocumentRole
  readonly createdAt: string
  readonly updatedAt: string
}

interface DocumentRow {
  id: string
  org_id: string
  title: string
  doc_role: DocumentRole | null
  org_role: 'admin' | 'member' | null
  created_at: Date
  updated_at: Date
}

const toInfo = (row: DocumentRow): DocumentInfo | null => {
  if (row.org_role === null) return null
  const role: DocumentRole | null = row.org_role === 'admin' ? 'owner' : row.doc_role
  if (role === null) return null
  return {
    id: row.id,
    orgId: row.org_id,
    title: row.title,
    role,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}

const SELECT_FOR_USER = `SELECT d.id, d.org_id, d.title, d.created_at, d.updated_at,
    dm.role AS doc_role, om.role AS org_role
  FROM documents d
  LEFT JOIN document_members dm ON dm.doc_id = d.id AND dm.user_id = $1
  LEFT JOIN organisation_members om ON om.org_id = d.org_id AND om.user_id = $1
  WHERE d.deleted_at IS NULL AND d.org_id IS NOT NULL`

/** Document metadata and roles in SQL. */
export class DocumentAccess {
  constructor(private readonly sql: SqlClient) {}

  /** Creates a document in an organisation, with `ownerId` as its owner. */
  async create(orgId: string, ownerId: string, title: string): Promise<DocumentInfo> {
    const id = createId()
    await this.sql.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO documents (id, org_id, title, created_by) VALUES ($1, $2, $3, $4)',
        [id, orgId, title, ownerId],
      )
      await tx.query(
        "INSERT INTO document_members (doc_id, user_id, role) VALUES ($1, $2, 'owner')",
        [id, ownerId],
      )
    })
    const info = await this.get(id, ownerId)
    if (info === null) throw new Error(`document ${id} vanished right after it was created`)
    return info
  }

  /** The document and the user's role, or null when the user may not see it (or it does not exist). */
  async get(docId: string, userId: string): Promise<DocumentInfo | null> {
    const rows = await this.sql.query<DocumentRow>(`${SELECT_FOR_USER} AND d.id = $2`, [
      userId,
      docId,
    ])
    const row = rows[0]
    return row === undefined ? null : toInfo(row)
  }

  /** The user's role on a document, or null. */
  async roleOf(docId: string, userId: string): Promise<DocumentRole | null> {
    return (await this.get(docId, userId))?.role ?? null
  }

  /** Every document the user may see, optionally in one organisation, newest first. */
  async list(userId: string, orgId: string | null): Promise<DocumentInfo[]> {
    const rows = await this.sql.query<DocumentRow>(
      `${SELECT_FOR_USER} AND ($2::text IS NULL OR d.org_id = $2) ORDER BY d.updated_at DESC`,
      [userId, orgId],
    )
    return rows.map(toInfo).filter((info): info is DocumentInfo => info !== null)
  }

  async rename(docId: string, title: string): Promise<void> {
    await this.sql.query('UPDATE documents SET title = $2, updated_at = now() WHERE id = $1', [
      docId,
      title,
    ])
  }

  /** Marks the document deleted; its log stays (history and restore). */
  async softDelete(docId: string): Promise<void> {
    await this.sql.query('UPDATE documents SET deleted_at = now() WHERE id = $1', [docId])
  }

  /**
   * Gives `email` a role on the document. The user must belong to the
   * document's organisation; returns their id, or null when no such member.
   */
  async share(docId: string, email: string, role: DocumentRole): Promise<string | null> {
    const rows = await this.sql.query<{ id: string }>(
      `SELECT u.id FROM users u
       JOIN organisation_members om ON om.user_id = u.id
       JOIN documents d ON d.org_id = om.org_id
       WHERE d.id = $1 AND lower(u.email) = lower($2)`,
      [docId, email],
    )
    const userId = rows[0]?.id
    if (userId === undefined) return null
    await this.sql.query(
      `INSERT INTO document_members (doc_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (doc_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
      [docId, userId, role],
    )
    return userId
  }

  async unshare(docId: string, userId: string): Promise<void> {
    await this.sql.query('DELETE FROM document_members WHERE doc_id = $1 AND user_id = $2', [
      docId,
      userId,
    ])
  }

  async members(
    docId: string,
  ): Promise<{ id: string; email: string; name: string; role: DocumentRole }[]> {
    return this.sql.query(
      `SELECT u.id, u.email, u.name, dm.role FROM document_members dm
       JOIN users u ON u.id = dm.user_id WHERE dm.doc_id = $1 ORDER BY u.email`,
      [docId],
    )
  }
}
