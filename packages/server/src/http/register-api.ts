/**
 * The JSON API under /api: cookies, cross-site defences and every route,
 * added to the app `createHttpApp` made.
 */
import fastifyCookie from '@fastify/cookie'
import type { FastifyInstance } from 'fastify'
import type { HeavyRequestLimiter } from './heavy-request-limiter.js'
import type { DocumentHistory } from '../history/index.js'
import type { DocumentTransfer } from '../transfer/index.js'
import type { ApiDependencies } from './api-dependencies.js'
import { addOriginCheck } from './origin-check.js'
import { registerAccountRoutes, registerSessionRoutes } from './routes/auth-routes.js'
import { registerDocumentRoutes } from './routes/document-routes.js'
import { registerHistoryRoutes } from './routes/history-routes.js'
import { registerOrganisationRoutes } from './routes/organisation-routes.js'
import { registerTransferRoutes } from './routes/transfer-routes.js'

/**
 * Registers @fastify/cookie, the Origin check on every state-changing
 * request and the API routes on `app`, which must come from `createHttpApp`
 * (it sets the security headers, `no-store`, and the generic 404 and error
 * bodies). Call once, before `app.listen` or `app.ready`; rejects when a
 * plugin fails to load. `deps` stays owned by the caller. The history
 * routes are added when `options.history` is given, export and import when
 * `options.transfer` is.
 */
export const registerApi = async (
  app: FastifyInstance,
  deps: ApiDependencies,
  options: {
    readonly history?: DocumentHistory
    readonly transfer?: DocumentTransfer
    /** Limits export, import, changes, saving and restoring versions; none: unlimited. */
    readonly heavyRequests?: HeavyRequestLimiter
  } = {},
): Promise<void> => {
  await app.register(fastifyCookie)
  addOriginCheck(app, () => deps.publicOrigin)

  await app.register(async (scope) => registerSessionRoutes(scope, deps))
  // Each of these adds the caller hook to its own scope.
  await app.register(async (scope) => registerAccountRoutes(scope, deps))
  await app.register(async (scope) => registerOrganisationRoutes(scope, deps))
  await app.register(async (scope) => registerDocumentRoutes(scope, deps))
  const { history } = options
  if (history !== undefined) {
    await app.register(async (scope) =>
      registerHistoryRoutes(scope, deps, history, options.heavyRequests),
    )
  }
  const { transfer } = options
  if (transfer !== undefined) {
    await app.register(async (scope) =>
      registerTransferRoutes(scope, deps, transfer, options.heavyRequests),
    )
  }
}
