/**
 * The JSON API under /api: cookies, cross-site defences and every route,
 * added to the app `createHttpApp` made.
 */
import fastifyCookie from '@fastify/cookie'
import type { FastifyInstance } from 'fastify'
import type { ApiDependencies } from './api-dependencies.js'
import { registerAccountRoutes, registerSessionRoutes } from './routes/auth-routes.js'
import { registerDocumentRoutes } from './routes/document-routes.js'
import { registerOrganisationRoutes } from './routes/organisation-routes.js'
import { addSecurityHooks } from './security-hooks.js'

/**
 * Registers @fastify/cookie, the security hooks (headers on every response,
 * the Origin check on every state-changing request) and the API routes on
 * `app`. Call once, before `app.listen` or `app.ready`; rejects when a
 * plugin fails to load. `deps` stays owned by the caller.
 */
export const registerApi = async (app: FastifyInstance, deps: ApiDependencies): Promise<void> => {
  await app.register(fastifyCookie)
  addSecurityHooks(app, deps.publicOrigin)

  await app.register(async (scope) => registerSessionRoutes(scope, deps))
  // Each of these adds the caller hook to its own scope.
  await app.register(async (scope) => registerAccountRoutes(scope, deps))
  await app.register(async (scope) => registerOrganisationRoutes(scope, deps))
  await app.register(async (scope) => registerDocumentRoutes(scope, deps))
}
