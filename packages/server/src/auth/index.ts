export { Accounts, type Membership, type OrganisationRole, type User } from './accounts.js'
export { AuthService, type Caller, type IssuedTokens } from './auth-service.js'
export {
  canEdit,
  DOCUMENT_ROLES,
  DocumentAccess,
  type DocumentInfo,
  type DocumentRole,
} from './document-access.js'
export {
  type Budget,
  DEFAULT_LOGIN_LIMITS,
  type FailureCounters,
  LoginLimiter,
  type LoginLimits,
  MemoryFailureCounters,
  RedisFailureCounters,
} from './login-limiter.js'
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js'
export {
  createLocalRevocationList,
  createRedisRevocationList,
  type RevocationList,
} from './revocation.js'
export { SessionStore, type SessionPolicy } from './session-store.js'
export { createId, TokenIssuer } from './tokens.js'
export {
  allowAnonymous,
  createUpgradeAuthorizer,
  readCookie,
  type SocketIdentity,
  type UpgradeAuthorizer,
  type UpgradeDecision,
} from './upgrade-authorizer.js'
