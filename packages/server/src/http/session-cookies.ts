/**
 * The session cookies: the access JWT on every path, the refresh token only
 * on the refresh route. Both are HttpOnly (no script reads them), Secure and
 * SameSite=Strict (no other site's page sends them). Tokens travel only in
 * these cookies, never in a response body.
 */
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { IssuedTokens } from '../auth/index.js'
import { COOKIE, REFRESH_PATH } from './api-dependencies.js'

/** Cookie lifetimes, seconds; the same values the tokens were issued with. */
export interface CookieLifetimes {
  readonly accessTokenTtlS: number
  readonly refreshTokenTtlS: number
}

const BASE_OPTIONS: CookieSerializeOptions = Object.freeze({
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
})

/**
 * Sets the access cookie, and the refresh cookie when `tokens` carries one
 * (during the rotation grace window it does not: the other tab's refresh
 * already set the successor, and overwriting it would lose it).
 */
export const setSessionCookies = (
  reply: FastifyReply,
  tokens: IssuedTokens,
  lifetimes: CookieLifetimes,
): void => {
  reply.setCookie(COOKIE.access, tokens.accessToken, {
    ...BASE_OPTIONS,
    path: '/',
    maxAge: lifetimes.accessTokenTtlS,
  })
  if (tokens.refreshToken === null) return
  reply.setCookie(COOKIE.refresh, tokens.refreshToken, {
    ...BASE_OPTIONS,
    path: REFRESH_PATH,
    maxAge: lifetimes.refreshTokenTtlS,
  })
}

/**
 * Tells the browser to drop both cookies: empty values with the same
 * attributes (a cookie is only replaced by one with the same name and path)
 * and `Max-Age=0`.
 */
export const clearSessionCookies = (reply: FastifyReply): void => {
  reply.setCookie(COOKIE.access, '', { ...BASE_OPTIONS, path: '/', maxAge: 0 })
  reply.setCookie(COOKIE.refresh, '', { ...BASE_OPTIONS, path: REFRESH_PATH, maxAge: 0 })
}
