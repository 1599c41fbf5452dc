/** Shapes of what the API answers (docs/API.md). */

export type DocumentRole = 'owner' | 'editor' | 'commenter' | 'viewer'

export const DOCUMENT_ROLES: readonly DocumentRole[] = ['owner', 'editor', 'commenter', 'viewer']

export interface User {
  readonly id: string
  readonly email: string
  readonly name: string
}

export interface Organisation {
  readonly id: string
  readonly name: string
  readonly role: 'admin' | 'member'
}

export interface Me {
  readonly user: User
  readonly organisations: readonly Organisation[]
}

export interface DocumentInfo {
  readonly id: string
  readonly orgId: string
  readonly title: string
  readonly role: DocumentRole
  readonly createdAt: string
  readonly updatedAt: string
}

export interface DocumentMember {
  readonly id: string
  readonly email?: string
  readonly name?: string
  readonly role: DocumentRole
}

/** Longest document title the server accepts. */
export const MAX_TITLE_LENGTH = 200

/** Whether a role may change a document's content and title. */
export const canEdit = (role: DocumentRole): boolean => role === 'owner' || role === 'editor'
