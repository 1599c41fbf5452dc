/**
 * The Fastify application: health endpoints, the generic 404 and error
 * answers; `registerApi` adds the API, later layers the web app. Every
 * response carries the security headers and every /api response is
 * `no-store`, errors and 404s included.
 */
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { Logger } from '../log/index.js'
import { hasWebApp, isWebAppRoute, registerWebApp, REVALIDATE } from './web-app.js'
import { setResponseHeaders } from './response-headers.js'

/** What the HTTP layer reports about the node. */
export interface HealthSource {
  /** Resolves when the database answers; rejects otherwise. */
  checkReady(): Promise<void>
}

/** Answers a request the router refused; no hook runs for it, so its headers are set here. */
const answerMalformedRequest = (
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void => {
  const status = err.statusCode !== undefined && err.statusCode < 500 ? err.statusCode : 400
  setResponseHeaders(request, reply)
  void reply.code(status).send({ error: 'malformed request', requestId: request.id })
}

/** Creates the HTTP app (not yet listening). */
/** Options of `createHttpApp`. */
export interface HttpAppOptions {
  /** Folder of the built web app; served when it holds index.html. */
  readonly webDir?: string | null
  /** Proxies whose X-Forwarded-For sets `request.ip`; none by default. */
  readonly trustProxy?: readonly string[]
}

export const createHttpApp = (
  logger: Logger,
  health: HealthSource,
  options: HttpAppOptions = {},
): FastifyInstance => {
  const app = Fastify({
    ...(options.trustProxy === undefined || options.trustProxy.length === 0
      ? {}
      : { trustProxy: [...options.trustProxy] }),
    loggerInstance: logger as FastifyBaseLogger,
    // Per-request lines would double the log volume; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // A correlation id on every request, echoed back for support.
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    bodyLimit: 1024 * 1024,
    // A node closes the app last, after its sockets, store and workers:
    // a request still in flight then can no longer finish, and waiting for
    // it kept the process from exiting (seen once after the heavy-requests
    // tests, with a request whose wait never settled), so its connection
    // is closed with the rest.
    forceCloseConnections: true,
    // Requests the router cannot parse (a bad percent-escape, an overlong
    // parameter) would otherwise get Fastify's raw answer, past every hook.
    frameworkErrors: answerMalformedRequest,
  })

  app.addHook('onRequest', async (request, reply) => setResponseHeaders(request, reply))
  app.addHook('onSend', async (request, reply) => setResponseHeaders(request, reply))

  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (request, reply) => {
    try {
      await health.checkReady()
      return { status: 'ready' }
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed')
      return reply.code(503).send({ status: 'unavailable' })
    }
  })

  const webDir = options.webDir
  if (hasWebApp(webDir)) registerWebApp(app, webDir)
  // Fastify's own 404 body echoes the method and path; ours says nothing more
  // than the status. Paths the web app routes itself get its entry page.
  app.setNotFoundHandler((request, reply) => {
    if (hasWebApp(webDir) && isWebAppRoute(request.method, request.url)) {
      return reply.header('cache-control', REVALIDATE).sendFile('index.html')
    }
    return reply.code(404).send({ error: 'not found', requestId: request.id })
  })

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode < 500 ? err.statusCode : 500
    if (status >= 500) request.log.error({ err }, 'request failed')
    void reply.code(status).send({
      error: status >= 500 ? 'internal error' : err.message,
      requestId: request.id,
    })
  })

  return app
}
