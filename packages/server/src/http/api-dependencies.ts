/**
 * What the HTTP API needs from the rest of the node, handed over by
 * `main.ts`.
 */
import type { Accounts, AuthService, DocumentAccess } from '../auth/index.js'

/** Names and scopes of the session cookies. */
export const COOKIE = {
  /** The access JWT: HttpOnly, Secure, SameSite=Strict, path `/`. */
  access: 'quire_access',
  /** The opaque refresh token: HttpOnly, Secure, SameSite=Strict, path `REFRESH_PATH` only. */
  refresh: 'quire_refresh',
} as const

/** The only route that receives the refresh cookie. */
export const REFRESH_PATH = '/api/auth/refresh'

/** Tells nodes that a user's access to a document changed, so open sockets follow. */
export interface AccessChangeNotifier {
  /**
   * `userId` null: everyone on the document (it was deleted). `docId` `'*'`:
   * every document of `userId` (they left an organisation or their role in
   * one changed, which changes their role on all of its documents).
   */
  documentAccessChanged(docId: string, userId: string | null): void
}

/** Everything the API routes use. */
export interface ApiDependencies {
  readonly auth: AuthService
  readonly accounts: Accounts
  readonly documents: DocumentAccess
  readonly accessChanges: AccessChangeNotifier
  /**
   * The one origin browsers may call from, e.g. `http://127.0.0.1:8080`.
   * Read on every state-changing request, so it may be a getter whose value
   * is known only once the node listens.
   */
  readonly publicOrigin: string
  /** Cookie lifetimes, seconds. */
  readonly accessTokenTtlS: number
  readonly refreshTokenTtlS: number
}
