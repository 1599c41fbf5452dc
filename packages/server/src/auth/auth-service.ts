/**
 * Sign-up, sign-in, refresh, sign-out and password change, composed from
 * accounts, sessions, tokens and the revocation list. Returns outcomes as
 * values; the HTTP layer turns them into cookies and status codes.
 */
import type { Logger } from '../log/index.js'
import { type Accounts, type Membership, type User } from './accounts.js'
import type { LoginLimiter } from './login-limiter.js'
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  verifyAgainstDummy,
  verifyPassword,
} from './passwords.js'
import type { RevocationList } from './revocation.js'
import type { SessionStore } from './session-store.js'
import type { AccessClaims, TokenIssuer } from './tokens.js'

/** Tokens to set as cookies after a successful sign-in or refresh. */
export interface IssuedTokens {
  readonly accessToken: string
  /** Null during the rotation grace window: the other tab already set it. */
  readonly refreshToken: string | null
}

export type SignInOutcome =
  | { readonly ok: true; readonly user: User; readonly tokens: IssuedTokens }
  | { readonly ok: false; readonly reason: 'invalid-credentials' }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterMs: number }

export type SignUpOutcome =
  | {
      readonly ok: true
      readonly user: User
      readonly organisation: Membership
      readonly tokens: IssuedTokens
    }
  | {
      readonly ok: false
      readonly reason: 'email-taken' | 'invalid-input'
      readonly detail: string
    }
  | { readonly ok: false; readonly reason: 'rate-limited'; readonly retryAfterMs: number }

export type RefreshResult =
  | { readonly ok: true; readonly user: User; readonly tokens: IssuedTokens }
  | { readonly ok: false; readonly reason: 'invalid' }

/** An authenticated caller. */
export interface Caller extends AccessClaims {
  readonly user: User
}

const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/

/** The account operations. */
export class AuthService {
  constructor(
    private readonly deps: {
      readonly accounts: Accounts
      readonly sessions: SessionStore
      readonly tokens: TokenIssuer
      readonly revocations: RevocationList
      readonly limiter: LoginLimiter
      /** Counts sign-ups per address (each costs an argon2 hash); none when absent. */
      readonly signUpLimiter?: LoginLimiter
      readonly logger: Logger
    },
  ) {}

  async signUp(
    email: string,
    password: string,
    name: string,
    address = '',
  ): Promise<SignUpOutcome> {
    const limiter = this.deps.signUpLimiter
    if (limiter !== undefined) {
      // Every sign-up counts, counted before its argon2 hash.
      const retryAfterMs = await limiter.tryAttempt('', address)
      if (retryAfterMs > 0) return { ok: false, reason: 'rate-limited', retryAfterMs }
    }
    const problem = checkPassword(password) ?? checkEmail(email) ?? checkName(name)
    if (problem !== null) return { ok: false, reason: 'invalid-input', detail: problem }
    const created = await this.deps.accounts.createUser(
      email.trim(),
      name.trim(),
      await hashPassword(password),
    )
    if (created === null)
      return { ok: false, reason: 'email-taken', detail: 'an account with this email exists' }
    this.deps.logger.info({ userId: created.user.id }, 'user signed up')
    return { ok: true, ...created, tokens: await this.startSession(created.user.id) }
  }

  /**
   * Same answer, and the same work (one argon2 verification), for an unknown
   * email as for a wrong password. The attempt is counted as a failure
   * before the verification, so guesses sent at once cannot all pass the
   * limiter; a success takes it back.
   */
  async signIn(email: string, password: string, address: string): Promise<SignInOutcome> {
    const retryAfterMs = await this.deps.limiter.tryAttempt(email, address)
    if (retryAfterMs > 0) return { ok: false, reason: 'rate-limited', retryAfterMs }
    const user = await this.deps.accounts.findByEmail(email)
    const isValid =
      user === null
        ? await verifyAgainstDummy(password)
        : await verifyPassword(user.passwordHash, password)
    if (user === null || !isValid) return { ok: false, reason: 'invalid-credentials' }
    await this.deps.limiter.recordSuccess(email, address)
    this.deps.logger.info({ userId: user.id }, 'user signed in')
    return { ok: true, user: publicUser(user), tokens: await this.startSession(user.id) }
  }

  async refresh(refreshToken: string): Promise<RefreshResult> {
    const outcome = await this.deps.sessions.refresh(refreshToken)
    if (!outcome.ok) {
      if (outcome.reason === 'reused') {
        // Only a stolen copy is presented this late: end the whole family,
        // its open sockets included, on every node.
        this.deps.logger.warn(
          { sessionId: outcome.sessionId },
          'refresh token reused; session family revoked',
        )
        await this.deps.revocations.announce([outcome.sessionId])
      }
      return { ok: false, reason: 'invalid' }
    }
    const user = await this.deps.accounts.findById(outcome.userId)
    if (user === null) return { ok: false, reason: 'invalid' }
    const accessToken = await this.deps.tokens.issueAccessToken({
      userId: user.id,
      sessionId: outcome.sessionId,
    })
    return {
      ok: true,
      user: publicUser(user),
      tokens: { accessToken, refreshToken: outcome.refreshToken },
    }
  }

  async signOut(sessionId: string): Promise<void> {
    await this.deps.sessions.revoke(sessionId, 'signed out')
    await this.deps.revocations.announce([sessionId])
  }

  /** Changes the password, ends every session of the user, and starts a new one for this client. */
  async changePassword(
    userId: string,
    currentPassword: string,
    newPassword: string,
  ): Promise<
    | { ok: true; tokens: IssuedTokens }
    | { ok: false; reason: 'invalid-credentials' | 'invalid-input'; detail?: string }
  > {
    const problem = checkPassword(newPassword)
    if (problem !== null) return { ok: false, reason: 'invalid-input', detail: problem }
    const user = await this.deps.accounts.findById(userId)
    if (user === null || !(await verifyPassword(user.passwordHash, currentPassword))) {
      return { ok: false, reason: 'invalid-credentials' }
    }
    await this.deps.accounts.setPasswordHash(userId, await hashPassword(newPassword))
    const ended = await this.deps.sessions.revokeAllOf(userId, 'password changed')
    await this.deps.revocations.announce(ended)
    return { ok: true, tokens: await this.startSession(userId) }
  }

  /** The caller behind an access token, or null (invalid, expired, revoked, or the user is gone). */
  async authenticate(accessToken: string | undefined): Promise<Caller | null> {
    if (accessToken === undefined || accessToken === '') return null
    const claims = await this.deps.tokens.verifyAccessToken(accessToken)
    if (claims === null) return null
    if (await this.deps.revocations.isRevoked(claims.sessionId)) return null
    const user = await this.deps.accounts.findById(claims.userId)
    if (user === null) return null
    return { ...claims, user: publicUser(user) }
  }

  private async startSession(userId: string): Promise<IssuedTokens> {
    const session = await this.deps.sessions.create(userId)
    const accessToken = await this.deps.tokens.issueAccessToken({
      userId,
      sessionId: session.sessionId,
    })
    return { accessToken, refreshToken: session.refreshToken }
  }
}

const publicUser = (user: User): User => ({ id: user.id, email: user.email, name: user.name })

const checkPassword = (password: string): string | null =>
  password.length < MIN_PASSWORD_LENGTH
    ? `the password needs at least ${MIN_PASSWORD_LENGTH} characters`
    : password.length > MAX_PASSWORD_LENGTH
      ? `the password may have at most ${MAX_PASSWORD_LENGTH} characters`
      : null

const checkEmail = (email: string): string | null =>
  EMAIL_PATTERN.test(email.trim()) ? null : 'that does not look like an email address'

const checkName = (name: string): string | null =>
  name.trim().length === 0 || name.length > 100 ? 'a name of 1 to 100 characters is needed' : null
