/**
 * The Origin check on every state-changing request: the cross-site request
 * defence that does not depend on the browser honouring SameSite.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './route-support.js'

/** Methods that change state, so must come from our own origin. */
const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** The answer to a refused cross-site request (403). */
export const CROSS_SITE_REFUSED = 'cross-site request refused'

/**
 * Adds an `onRequest` hook to `app` itself (not an encapsulated child), so
 * it covers every route registered on the app, the 404 handler included: a
 * POST, PUT, PATCH or DELETE whose `Origin` is not the public origin gets
 * 403 before its body is read. `readPublicOrigin` is called per request (a
 * node listening on port 0 learns its origin only after `listen`); when it
 * is not an absolute URL, every such request is refused.
 *
 * SameSite=Strict cookies already keep other sites' requests anonymous; this
 * is the second, independent line (OWASP CSRF prevention cheat sheet,
 * "verifying origin with standard headers"). Browsers send Origin on every
 * such request, so a missing one means a non-browser client or a stripped
 * header, and is refused too.
 */
export const addOriginCheck = (app: FastifyInstance, readPublicOrigin: () => string): void => {
  // The configured value normalised to an origin (no trailing slash, default
  // port dropped), recomputed only when the value changes.
  let configured: string | null = null
  let origin: string | null = null
  const expectedOrigin = (): string | null => {
    const value = readPublicOrigin()
    if (value !== configured) {
      configured = value
      origin = URL.canParse(value) ? new URL(value).origin : null
    }
    return origin
  }
  app.addHook('onRequest', async (request, reply) =>
    refuseCrossSite(request, reply, expectedOrigin()),
  )
}

const refuseCrossSite = (
  request: FastifyRequest,
  reply: FastifyReply,
  origin: string | null,
): FastifyReply | undefined => {
  if (!STATE_CHANGING_METHODS.has(request.method)) return undefined
  if (origin !== null && request.headers.origin === origin) return undefined
  request.log.warn(
    // The header is the client's: bounded before it reaches a log line.
    { method: request.method, origin: request.headers.origin?.slice(0, 200) ?? null },
    'cross-site request refused',
  )
  return sendError(reply, 403, CROSS_SITE_REFUSED)
}
