/**
 * Headers on every response of the app: the security headers, the request
 * id, and `no-store` on /api and the health endpoints.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * The security headers. The policy allows only same-origin scripts, styles,
 * fonts and connections (`connect-src 'self'` covers ws: and wss: of the
 * same host in current browsers), no plugins, no base-URL tricks, and no
 * framing by anyone.
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

/** Paths whose answers no cache may keep: they depend on who asks, and on now. */
const NO_STORE_PREFIXES = ['/api/', '/healthz', '/readyz', '/metrics']

/**
 * Sets every header a response carries. Idempotent: the app calls it on the
 * way in (so the last-resort error path, which skips onSend, keeps them),
 * on the way out, and for requests the router refused before any hook ran.
 */
export const setResponseHeaders = (request: FastifyRequest, reply: FastifyReply): void => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value)
  reply.header('x-request-id', request.id)
  const path = decodeAsciiEscapes(request.url.split('?', 1)[0] ?? '')
  if (path === '/api' || NO_STORE_PREFIXES.some((prefix) => path.startsWith(prefix))) {
    reply.header('cache-control', 'no-store')
  }
}

/**
 * The path with its ASCII percent-escapes decoded, as the router matches it:
 * `/%61pi/auth/me` is answered by `/api/auth/me`, so it must be `no-store`
 * too. Never throws (a malformed escape stays as it is).
 */
const decodeAsciiEscapes = (path: string): string =>
  path.replace(/%([0-7][0-9A-Fa-f])/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
