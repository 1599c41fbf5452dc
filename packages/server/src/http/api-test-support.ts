/**
 * Test support for the API suites: an embedded store in a temporary folder,
 * the real account services over it, an app with `registerApi`, a logger
 * whose lines can be read back, and small request and cookie helpers.
 * Imported by tests only.
 * @internal
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import {
  Accounts,
  AuthService,
  createLocalRevocationList,
  DocumentAccess,
  LoginLimiter,
  type LoginLimits,
  SessionStore,
  TokenIssuer,
} from '../auth/index.js'
import { createLogger, type Logger } from '../log/index.js'
import { openEmbeddedStore, type SqlDocumentStore } from '../store/index.js'
import { type ApiDependencies, COOKIE } from './api-dependencies.js'
import { createHttpApp } from './http-app.js'
import { registerApi } from './register-api.js'

/** The public origin of the test apps; state-changing requests send it. */
export const TEST_ORIGIN = 'http://quire.test'
/** A password every test account uses. */
export const TEST_PASSWORD = 'correct horse battery staple'
/** Access cookie lifetime of the test apps, seconds. */
export const ACCESS_TTL_S = 600
/** Refresh cookie lifetime of the test apps, seconds. */
export const REFRESH_TTL_S = 3600

/** A logger and the JSON lines it wrote. */
export interface CapturedLog {
  readonly logger: Logger
  readonly lines: string[]
}

/** A debug-level logger whose lines are kept in memory. */
export const createCapturedLogger = (): CapturedLog => {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      )
      callback()
    },
  })
  return { logger: createLogger({ level: 'debug', destination }), lines }
}

/** An embedded store in a temporary folder; `close` deletes the folder. */
export interface TestStore {
  readonly store: SqlDocumentStore
  readonly log: CapturedLog
  close(): Promise<void>
}

/** Opens a store (about 5 s on first open: once per file, in `beforeAll`). */
export const openTestStore = async (): Promise<TestStore> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'quire-api-'))
  const log = createCapturedLogger()
  const store = await openEmbeddedStore({ dataDir, logger: log.logger })
  return {
    store,
    log,
    close: async () => {
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** A call of `documentAccessChanged`. */
export interface RecordedChange {
  readonly docId: string
  readonly userId: string | null
}

/** What a request carries; `origin` null sends none. */
export interface SendOptions {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  readonly url: string
  readonly body?: unknown
  readonly access?: string
  readonly refresh?: string
  /** @default TEST_ORIGIN on state-changing methods, none on GET */
  readonly origin?: string | null
}

/** An app with the API, its dependencies, and what it reported. */
export interface TestApi {
  readonly app: FastifyInstance
  readonly deps: ApiDependencies
  readonly changes: RecordedChange[]
  readonly log: CapturedLog
  send(options: SendOptions): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

/** Settings of `createTestApi`. */
export interface TestApiOptions {
  /** @default 2000 */
  readonly rotationGraceMs?: number
  readonly loginLimits?: LoginLimits
  /** Read per request, like the node's lazily known origin. @default () => TEST_ORIGIN */
  readonly readPublicOrigin?: () => string
  /** Called after `registerApi`, before `ready`: extra routes for a test. */
  readonly configure?: (app: FastifyInstance) => void
}

/** Builds fresh services (own limiter, own logger) over `store` and an app serving the API. */
export const createTestApi = async (
  store: SqlDocumentStore,
  options: TestApiOptions = {},
): Promise<TestApi> => {
  const log = createCapturedLogger()
  const readPublicOrigin = options.readPublicOrigin ?? (() => TEST_ORIGIN)
  const accounts = new Accounts(store.sql)
  const sessions = new SessionStore(store.sql, {
    refreshTokenTtlS: REFRESH_TTL_S,
    refreshIdleTtlS: REFRESH_TTL_S,
    rotationGraceMs: options.rotationGraceMs ?? 2000,
  })
  const auth = new AuthService({
    accounts,
    sessions,
    tokens: new TokenIssuer({
      secret: crypto.getRandomValues(new Uint8Array(32)),
      issuer: TEST_ORIGIN,
      accessTokenTtlS: ACCESS_TTL_S,
    }),
    revocations: createLocalRevocationList(sessions),
    limiter: new LoginLimiter(options.loginLimits),
    logger: log.logger,
  })
  const changes: RecordedChange[] = []
  const deps: ApiDependencies = {
    auth,
    accounts,
    documents: new DocumentAccess(store.sql),
    accessChanges: { documentAccessChanged: (docId, userId) => changes.push({ docId, userId }) },
    get publicOrigin() {
      return readPublicOrigin()
    },
    accessTokenTtlS: ACCESS_TTL_S,
    refreshTokenTtlS: REFRESH_TTL_S,
  }
  const app = createHttpApp(log.logger, { checkReady: async () => undefined })
  await registerApi(app, deps)
  options.configure?.(app)
  await app.ready()

  const send = (request: SendOptions): Promise<LightMyRequestResponse> => {
    const headers: Record<string, string> = {}
    const origin = request.origin === undefined ? defaultOrigin(request.method) : request.origin
    if (origin !== null) headers.origin = origin
    const cookies = [
      request.access === undefined ? null : `${COOKIE.access}=${request.access}`,
      request.refresh === undefined ? null : `${COOKIE.refresh}=${request.refresh}`,
    ].filter((cookie) => cookie !== null)
    if (cookies.length > 0) headers.cookie = cookies.join('; ')
    return app.inject({
      method: request.method,
      url: request.url,
      headers,
      ...(request.body === undefined ? {} : { payload: request.body as object }),
    })
  }
  return { app, deps, changes, log, send, close: () => app.close() }
}

const defaultOrigin = (method: SendOptions['method']): string | null =>
  method === 'GET' ? null : TEST_ORIGIN

/** One Set-Cookie header, parsed: attribute names lowercased, flags as `true`. */
export interface SetCookie {
  readonly name: string
  readonly value: string
  readonly attributes: Readonly<Record<string, string | true>>
}

/** Every Set-Cookie header of a response, by cookie name. */
export const readSetCookies = (response: LightMyRequestResponse): Map<string, SetCookie> => {
  const header = response.headers['set-cookie']
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
  const cookies = new Map<string, SetCookie>()
  for (const line of lines) {
    const [pair = '', ...parts] = line.split(';').map((part) => part.trim())
    const separator = pair.indexOf('=')
    const attributes: Record<string, string | true> = {}
    for (const part of parts) {
      const equals = part.indexOf('=')
      if (equals === -1) attributes[part.toLowerCase()] = true
      else attributes[part.slice(0, equals).toLowerCase()] = part.slice(equals + 1)
    }
    const name = pair.slice(0, separator)
    cookies.set(name, { name, value: pair.slice(separator + 1), attributes })
  }
  return cookies
}

/** The session cookie values a response set (absent ones undefined). */
export const readSessionCookies = (
  response: LightMyRequestResponse,
): { access: string | undefined; refresh: string | undefined } => {
  const cookies = readSetCookies(response)
  return { access: cookies.get(COOKIE.access)?.value, refresh: cookies.get(COOKIE.refresh)?.value }
}

/** A signed-up account and its session cookies. */
export interface TestAccount {
  readonly userId: string
  readonly email: string
  /** The personal organisation sign-up created. */
  readonly orgId: string
  readonly access: string
  readonly refresh: string
}

/** Signs up a new account with a unique email and `TEST_PASSWORD`. */
export const signUp = async (api: TestApi, name = 'Test User'): Promise<TestAccount> => {
  const email = `${randomUUID()}@example.test`
  const response = await api.send({
    method: 'POST',
    url: '/api/auth/signup',
    body: { email, password: TEST_PASSWORD, name },
  })
  expect(response.statusCode).toBe(201)
  const body = response.json<{ user: { id: string }; organisation: { id: string } }>()
  const { access, refresh } = readSessionCookies(response)
  if (access === undefined || refresh === undefined) throw new Error('sign-up set no cookies')
  return { userId: body.user.id, email, orgId: body.organisation.id, access, refresh }
}

/** A response body without its request id, to compare bodies of different requests. */
export const withoutRequestId = (response: LightMyRequestResponse): unknown => {
  const { requestId, ...rest } = response.json<{ requestId?: unknown }>()
  expect(typeof requestId).toBe('string')
  return rest
}
