/** Shapes of what the API answers (docs/API.md). */
import type { JSONContent } from '@tiptap/core'

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

/** Someone who edited between two versions. */
export interface VersionEditor {
  readonly id: string
  readonly name: string | null
}

/** One version (a checkpoint: automatic or named). */
export interface VersionSummary {
  readonly seq: number
  readonly createdAt: string
  readonly name: string | null
  readonly createdBy: string | null
  readonly editors: readonly VersionEditor[]
}

export interface VersionList {
  /** The latest stored update: the current state. */
  readonly lastSeq: number
  /** Who edited since the newest version. */
  readonly current: readonly VersionEditor[]
  /** Newest first. */
  readonly versions: readonly VersionSummary[]
}

/** Attributes of the `change` mark on every text node of `DocumentChanges.doc`. */
export interface ChangeAttrs {
  readonly kind: 'kept' | 'added' | 'deleted'
  readonly author: string | null
  readonly at: string | null
  readonly deletedBy: string | null
  readonly deletedAt: string | null
}

/** `GET /api/documents/:id/versions/:seq/changes`. */
export interface DocumentChanges {
  readonly seq: number
  readonly since: number | null
  readonly attributedFrom: number
  readonly authors: readonly VersionEditor[]
  /** ProseMirror JSON; every text node has a `change` mark with `ChangeAttrs`. */
  readonly doc: JSONContent
  readonly addedChars: number
  readonly deletedChars: number
}

export type ExportFormat = 'html' | 'markdown' | 'text' | 'json'
export type ImportFormat = 'html' | 'markdown'
