export {
  type AccessChangeNotifier,
  type ApiDependencies,
  COOKIE,
  REFRESH_PATH,
} from './api-dependencies.js'
export { createHttpApp, type HealthSource, type HttpAppOptions } from './http-app.js'
export { registerApi } from './register-api.js'
export { CROSS_SITE_REFUSED } from './origin-check.js'
export { SECURITY_HEADERS } from './response-headers.js'
export { hasWebApp, IMMUTABLE, REVALIDATE } from './web-app.js'
export {
  createHeavyRequestLimiter,
  DEFAULT_HEAVY_REQUEST_LIMITS,
  type HeavyRequestKind,
  type HeavyRequestLimiter,
  type HeavyRequestLimits,
} from './heavy-request-limiter.js'
