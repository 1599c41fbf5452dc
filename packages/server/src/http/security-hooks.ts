/**
 * Cross-site defences for the whole app: the response headers every answer
 * carries, and the Origin check on every state-changing request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sendError } from './route-support.js'

/**
 * Headers on every response, errors and 404s included. The policy allows
 * only same-origin scripts, styles, fonts and connections (WebSocket
 * included: `connect-src 'self'` covers ws: and wss: of the same host in
 * current browsers), no plugins, no framing by anyone.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
})

/** Methods that change state, so must come from our own origin. */
const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** The body of a refused cross-site request. */
export const CROSS_SITE_REFUSED = 'cross-site request refused'

/**
 * Adds the hooks to `app` itself (not to an encapsulated child), so they
 * cover every route, the 404 handler and error replies. `publicOrigin` is
 * the one origin browsers may send state-changing requests from; throws when
 * it is not an absolute URL.
 */
export const addSecurityHooks = (app: FastifyInstance, publicOrigin: string): void => {
  const origin = new URL(publicOrigin).origin

  // Set on the way in as well as on the way out: a reply sent by Fastify's
  // last-resort error path skips onSend but keeps headers already set.
  app.addHook('onRequest', async (request, reply) => {
    setSecurityHeaders(reply)
    return refuseCrossSite(request, reply, origin)
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    setSecurityHeaders(reply)
    return payload
  })
}

const setSecurityHeaders = (reply: FastifyReply): void => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value)
}

/**
 * SameSite=Strict cookies already keep other sites' requests anonymous; the
 * Origin check is the second, independent line (OWASP CSRF cheat sheet,
 * "verifying origin with standard headers"). Browsers send Origin on every
 * POST, PUT, PATCH and DELETE, so a missing one means a non-browser client
 * or a stripped header, and is refused too.
 */
const refuseCrossSite = (
  request: FastifyRequest,
  reply: FastifyReply,
  origin: string,
): FastifyReply | undefined => {
  if (!STATE_CHANGING_METHODS.has(request.method)) return undefined
  if (request.headers.origin === origin) return undefined
  request.log.warn(
    // The header is the client's: bounded before it reaches a log line.
    { method: request.method, origin: request.headers.origin?.slice(0, 200) ?? null },
    'cross-site request refused',
  )
  return sendError(reply, 403, CROSS_SITE_REFUSED)
}
