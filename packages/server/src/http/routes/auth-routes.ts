/**
 * /api/auth: sign-up, sign-in, refresh and sign-out (no caller needed), and
 * the signed-in caller's own account (who am I, change password).
 */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { MAX_PASSWORD_LENGTH } from '../../auth/index.js'
import { type ApiDependencies, COOKIE, REFRESH_PATH } from '../api-dependencies.js'
import { callerOf, createCallerHook, decodeOrReply, sendError, text } from '../route-support.js'
import { clearSessionCookies, setSessionCookies } from '../session-cookies.js'

/** Longest email accepted, characters (RFC 5321: 64 + 1 + 255). */
const MAX_EMAIL_LENGTH = 320

/** The one answer to a failed sign-in, whether the email is unknown or the password wrong. */
export const INVALID_CREDENTIALS = 'invalid email or password'

/** The answer on routes that need a caller, to anyone who is not one. */
export const NOT_SIGNED_IN = 'not signed in'

// Lengths are bounded here so no oversized string reaches argon2; the
// account rules (password length, email shape) are AuthService's.
const email = text().max(MAX_EMAIL_LENGTH)
const password = z.string().max(MAX_PASSWORD_LENGTH)

const SIGN_UP_BODY = z.object({ email, password, name: text().max(100) })
const SIGN_IN_BODY = z.object({ email, password })
const CHANGE_PASSWORD_BODY = z.object({ currentPassword: password, newPassword: password })

/**
 * Registers the routes that work without a caller: sign-up, sign-in, refresh
 * and sign-out. Each success sets the session cookies; no token is ever in a
 * body.
 */
export const registerSessionRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
): Promise<void> => {
  // Limit: 409 tells anyone whether an email has an account, and each
  // sign-up costs an argon2 hash with no rate limit. Hiding the first needs
  // email confirmation; the second, a per-address budget like sign-in's.
  app.post('/api/auth/signup', async (request, reply) => {
    const body = decodeOrReply(SIGN_UP_BODY, request.body, reply)
    if (body === null) return reply
    const outcome = await deps.auth.signUp(body.email, body.password, body.name, request.ip)
    if (!outcome.ok) {
      if (outcome.reason === 'rate-limited') {
        reply.header('retry-after', String(Math.ceil(outcome.retryAfterMs / 1000)))
        return sendError(reply, 429, 'too many sign-ups from this address; try again later')
      }
      return sendError(reply, outcome.reason === 'email-taken' ? 409 : 400, outcome.detail)
    }
    setSessionCookies(reply, outcome.tokens, deps)
    return reply.code(201).send({ user: outcome.user, organisation: outcome.organisation })
  })

  // The address is the socket's peer unless --trust-proxy names the proxy in
  // front (then X-Forwarded-For from that proxy): without it, behind nginx
  // every client shares one address budget.
  app.post('/api/auth/signin', async (request, reply) => {
    const body = decodeOrReply(SIGN_IN_BODY, request.body, reply)
    if (body === null) return reply
    const outcome = await deps.auth.signIn(body.email, body.password, request.ip)
    if (outcome.ok) {
      setSessionCookies(reply, outcome.tokens, deps)
      return { user: outcome.user }
    }
    switch (outcome.reason) {
      case 'invalid-credentials':
        return sendError(reply, 401, INVALID_CREDENTIALS)
      case 'rate-limited': {
        const retryAfterS = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))
        request.log.warn({ retryAfterS }, 'sign-in rate limited')
        reply.header('retry-after', String(retryAfterS))
        return sendError(reply, 429, 'too many failed sign-ins; try again later')
      }
      default:
        return assertNever(outcome)
    }
  })

  // The refresh cookie is scoped to this path, so this is the only request
  // that carries it.
  app.post(REFRESH_PATH, async (request, reply) => {
    const token = request.cookies[COOKIE.refresh]
    const outcome = token === undefined || token === '' ? null : await deps.auth.refresh(token)
    if (outcome === null || !outcome.ok) {
      clearSessionCookies(reply)
      return sendError(reply, 401, NOT_SIGNED_IN)
    }
    setSessionCookies(reply, outcome.tokens, deps)
    return { user: outcome.user }
  })

  // Limit: with an expired access cookie the session cannot be identified
  // here (the refresh cookie never reaches this path), so it is not revoked:
  // the browser forgets both cookies, but a copied refresh token stays usable
  // until it expires. A client that refreshes before signing out avoids it.
  app.post('/api/auth/signout', async (request, reply) => {
    const caller = await deps.auth.authenticate(request.cookies[COOKIE.access])
    if (caller !== null) {
      await deps.auth.signOut(caller.sessionId)
      request.log.info({ userId: caller.userId }, 'user signed out')
    }
    clearSessionCookies(reply)
    // Drops the browser's offline copies of documents along with the session.
    reply.header('clear-site-data', '"cache", "storage"')
    return reply.code(204).send()
  })
}

/**
 * Registers the signed-in caller's account routes, behind the caller hook
 * (added to `app`, so pass an encapsulated scope).
 */
export const registerAccountRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))

  app.get('/api/auth/me', async (request) => {
    const { user } = callerOf(request)
    const memberships = await deps.accounts.membershipsOf(user.id)
    return {
      user,
      organisations: memberships.map(({ id, name, role }) => ({ id, name, role })),
    }
  })

  // Limit: wrong current passwords are not counted against the sign-in
  // budget, so a stolen access cookie may guess for as long as it lives
  // (argon2 makes each guess cost about as much as a sign-in).
  app.post('/api/auth/password', async (request, reply) => {
    const caller = callerOf(request)
    const body = decodeOrReply(CHANGE_PASSWORD_BODY, request.body, reply)
    if (body === null) return reply
    const outcome = await deps.auth.changePassword(
      caller.user.id,
      body.currentPassword,
      body.newPassword,
    )
    if (!outcome.ok) {
      return outcome.reason === 'invalid-credentials'
        ? sendError(reply, 401, 'the current password is wrong')
        : sendError(reply, 400, outcome.detail ?? 'invalid new password')
    }
    request.log.info({ userId: caller.user.id }, 'password changed')
    setSessionCookies(reply, outcome.tokens, deps)
    return reply.code(204).send()
  })
}

// Names only the reason: an outcome may carry tokens, which must not reach a log.
const assertNever = (outcome: never): never => {
  throw new Error(`unexpected outcome ${String((outcome as { reason?: unknown }).reason)}`)
}
