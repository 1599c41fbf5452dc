/**
 * Decides a WebSocket upgrade before any frame is read: the Origin must be
 * the public origin (a cross-site page must not ride the user's cookies,
 * CSWSH), the access cookie must be a live session, and the user must have
 * a role on the document. Refusals are HTTP answers to the upgrade request.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { AuthService } from './auth-service.js'
import type { DocumentAccess, DocumentRole } from './document-access.js'

/** Who a socket belongs to, as the server knows it. */
export interface SocketIdentity {
  readonly userId: string
  readonly sessionId: string
  readonly name: string
  readonly role: DocumentRole
}

/** The answer to an upgrade request. */
export type UpgradeDecision =
  | { readonly ok: true; readonly identity: SocketIdentity | null }
  | { readonly ok: false; readonly status: 401 | 403 | 404; readonly reason: string }

/** Decides one upgrade. */
export type UpgradeAuthorizer = (
  headers: IncomingHttpHeaders,
  docId: string,
) => Promise<UpgradeDecision>

/** The name of the access cookie (mirrors http/api-dependencies.ts). */
const ACCESS_COOKIE = 'quire_access'

/** An authorizer that lets everyone in (`--auth none`): no identity, full edit rights. */
export const allowAnonymous: UpgradeAuthorizer = async () => ({ ok: true, identity: null })

/** The authorizer of `--auth required`. */
export const createUpgradeAuthorizer =
  (deps: {
    readonly auth: AuthService
    readonly documents: DocumentAccess
    /** Read on every upgrade (a getter may supply it). */
    readonly publicOrigin: string
  }): UpgradeAuthorizer =>
  async (headers, docId) => {
    if (headers.origin !== deps.publicOrigin) {
      return { ok: false, status: 403, reason: 'cross-site WebSocket refused' }
    }
    const caller = await deps.auth.authenticate(readCookie(headers.cookie, ACCESS_COOKIE))
    if (caller === null) return { ok: false, status: 401, reason: 'not signed in' }
    const role = await deps.documents.roleOf(docId, caller.userId)
    if (role === null) return { ok: false, status: 404, reason: 'no such document' }
    return {
      ok: true,
      identity: {
        userId: caller.userId,
        sessionId: caller.sessionId,
        name: caller.user.name,
        role,
      },
    }
  }

/** The value of cookie `name` in a Cookie header, or undefined. */
export const readCookie = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator < 0) continue
    if (part.slice(0, separator).trim() === name) {
      try {
        return decodeURIComponent(part.slice(separator + 1).trim())
      } catch {
        return undefined
      }
    }
  }
  return undefined
}
