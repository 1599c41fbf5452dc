/**
 * Access tokens (short JWTs, HS256 only) and refresh tokens (opaque random
 * strings, stored only as SHA-256 hashes).
 */
import { createHash, randomBytes } from 'node:crypto'
import { errors, jwtVerify, SignJWT } from 'jose'

/** Who an access token speaks for. */
export interface AccessClaims {
  readonly userId: string
  readonly sessionId: string
}

/** Settings of a `TokenIssuer`. */
export interface TokenIssuerOptions {
  /** HMAC key, at least 32 bytes. */
  readonly secret: Uint8Array
  /** `iss` and `aud`: the public origin. */
  readonly issuer: string
  /** Lifetime of an access token, in seconds (5 to 15 minutes). */
  readonly accessTokenTtlS: number
}

/** The only algorithm accepted: a token signed otherwise (or `none`) is refused. */
const ALGORITHM = 'HS256'
/** `typ` header and claim of access tokens, so no other token can stand in for one. */
const ACCESS_TOKEN_TYPE = 'access'

/** Issues and verifies access tokens. */
export class TokenIssuer {
  constructor(private readonly options: TokenIssuerOptions) {
    if (options.secret.length < 32) throw new Error('the token secret must be at least 32 bytes')
  }

  /** A signed access token for `claims`, expiring after `accessTokenTtlS`. */
  issueAccessToken(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId, typ: ACCESS_TOKEN_TYPE })
      .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_TOKEN_TYPE })
      .setSubject(claims.userId)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.issuer)
      .setIssuedAt()
      .setJti(randomBytes(12).toString('base64url'))
      .setExpirationTime(`${this.options.accessTokenTtlS}s`)
      .sign(this.options.secret)
  }

  /**
   * The claims of a valid access token, or null: wrong algorithm, issuer,
   * audience or type, expired, or tampered with.
   */
  async verifyAccessToken(token: string): Promise<AccessClaims | null> {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.options.secret, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.issuer,
        requiredClaims: ['exp', 'sub', 'sid', 'typ'],
        typ: ACCESS_TOKEN_TYPE,
      })
      if (payload.typ !== ACCESS_TOKEN_TYPE || protectedHeader.typ !== ACCESS_TOKEN_TYPE)
        return null
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return null
      return { userId: payload.sub, sessionId: payload.sid }
    } catch (err) {
      if (err instanceof errors.JOSEError) return null
      throw err
    }
  }
}

/** A new opaque refresh token: 32 random bytes, base64url. */
export const createRefreshToken = (): string => randomBytes(32).toString('base64url')

/** The stored form of a refresh token. */
export const hashRefreshToken = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex')

/** A random id for users, organisations, sessions and documents. */
export const createId = (): string => randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')
