/**
 * What holds for every response and request of the app with the API: the
 * Origin check on state-changing requests, the security headers, `no-store`
 * on /api, and error bodies that say nothing about the server.
 */
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestApi,
  openTestStore,
  signUp,
  type TestAccount,
  type TestApi,
  TEST_ORIGIN,
  TEST_PASSWORD,
  type TestStore,
} from './api-test-support.js'
import { SECURITY_HEADERS } from './response-headers.js'

let testStore: TestStore
let api: TestApi
let account: TestAccount

beforeAll(async () => {
  testStore = await openTestStore()
  api = await createTestApi(testStore.store, {
    configure: (app) => {
      app.get('/api/test/explode', async () => {
        throw new Error('relation "users" does not exist: SELECT password_hash FROM users')
      })
    },
  })
  account = await signUp(api)
})

afterAll(async () => {
  await api.close()
  await testStore.close()
})

const expectSecurityHeaders = (response: LightMyRequestResponse, label: string): void => {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(response.headers[name], `${label}: ${name}`).toBe(value)
  }
}

describe('Origin check', () => {
  const origins: readonly (string | null)[] = [
    null,
    'http://evil.test',
    'http://quire.test.evil.test',
    'https://quire.test',
    'null',
  ]

  it('refuses every state-changing request without our Origin with 403, before doing anything', async () => {
    const created = await api.send({
      method: 'POST',
      url: '/api/documents',
      access: account.access,
      body: { orgId: account.orgId, title: 'Target' },
    })
    const docId = created.json<{ id: string }>().id
    const requests = [
      {
        method: 'POST',
        url: '/api/auth/signin',
        body: { email: account.email, password: TEST_PASSWORD },
      },
      { method: 'POST', url: '/api/auth/signout', access: account.access },
      { method: 'POST', url: '/api/auth/refresh', refresh: account.refresh },
      {
        method: 'POST',
        url: '/api/documents',
        access: account.access,
        body: { orgId: account.orgId, title: 'x' },
      },
      {
        method: 'PATCH',
        url: `/api/documents/${docId}`,
        access: account.access,
        body: { title: 'Pwned' },
      },
      { method: 'DELETE', url: `/api/documents/${docId}`, access: account.access },
      {
        method: 'PUT',
        url: `/api/orgs/${account.orgId}/members`,
        access: account.access,
        body: { email: account.email, role: 'member' },
      },
      { method: 'POST', url: '/api/no-such-route' },
    ] as const

    for (const origin of origins) {
      for (const request of requests) {
        const response = await api.send({ ...request, origin })
        expect(response.statusCode, `${request.method} ${request.url} from ${origin}`).toBe(403)
        expect(Object.keys(response.json()).sort()).toEqual(['error', 'requestId'])
        expect(response.json()).toMatchObject({ error: 'cross-site request refused' })
        expect(response.headers['set-cookie']).toBeUndefined()
      }
    }

    // Nothing happened: the session lives, the document kept its title.
    const me = await api.send({ method: 'GET', url: '/api/auth/me', access: account.access })
    const document = await api.send({
      method: 'GET',
      url: `/api/documents/${docId}`,
      access: account.access,
    })
    expect(me.statusCode).toBe(200)
    expect(document.json()).toMatchObject({ title: 'Target' })
  })

  it('accepts reads without an Origin', async () => {
    const response = await api.send({
      method: 'GET',
      url: '/api/auth/me',
      access: account.access,
      origin: null,
    })
    expect(response.statusCode).toBe(200)
  })

  it('reads the public origin per request, and refuses everything while it is unknown', async () => {
    let publicOrigin = ''
    const late = await createTestApi(testStore.store, { readPublicOrigin: () => publicOrigin })
    try {
      const signIn = () =>
        late.send({
          method: 'POST',
          url: '/api/auth/signin',
          body: { email: account.email, password: TEST_PASSWORD },
          origin: 'http://127.0.0.1:8080',
        })
      expect((await signIn()).statusCode).toBe(403)
      publicOrigin = 'http://127.0.0.1:8080/'
      expect((await signIn()).statusCode).toBe(200)
    } finally {
      await late.close()
    }
  })
})

describe('response headers', () => {
  /** One request of each kind of answer. */
  const answers = async (): Promise<Record<string, LightMyRequestResponse>> => ({
    'api 200': await api.send({ method: 'GET', url: '/api/auth/me', access: account.access }),
    'api 201': await api.send({
      method: 'POST',
      url: '/api/orgs',
      access: account.access,
      body: { name: 'Headers' },
    }),
    'api 204': await api.send({ method: 'POST', url: '/api/auth/signout', origin: TEST_ORIGIN }),
    'api 400 bad json': await api.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      headers: { origin: TEST_ORIGIN, 'content-type': 'application/json' },
      payload: '{"email":',
    }),
    'api 400 bad id': await api.send({
      method: 'GET',
      url: '/api/documents/x.y',
      access: account.access,
    }),
    'api 401': await api.send({ method: 'GET', url: '/api/auth/me' }),
    // The router decodes percent-escapes before matching: these reach the API too.
    'api 200 escaped path': await api.send({
      method: 'GET',
      url: '/%61pi/auth/me',
      access: account.access,
    }),
    'api 401 escaped path': await api.send({ method: 'GET', url: '/%61pi/auth/me' }),
    'api 404 escaped path': await api.send({ method: 'GET', url: '/%61pi/nothing-here' }),
    'api 403': await api.send({ method: 'POST', url: '/api/auth/signin', origin: null }),
    'api 404 route': await api.send({ method: 'GET', url: '/api/nothing-here' }),
    'api 404 document': await api.send({
      method: 'GET',
      url: '/api/documents/ZZZZnotAdocument',
      access: account.access,
    }),
    'api 413': await api.app.inject({
      method: 'POST',
      url: '/api/auth/signin',
      headers: { origin: TEST_ORIGIN, 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024) }),
    }),
    'api 500': await api.send({ method: 'GET', url: '/api/test/explode' }),
    'api 400 malformed url': await api.send({ method: 'GET', url: '/api/documents/%zz' }),
    'healthz 200': await api.send({ method: 'GET', url: '/healthz' }),
    'page 404': await api.send({ method: 'GET', url: '/no/such/page' }),
  })

  it('sets the security headers on every response, errors and 404s included', async () => {
    for (const [label, response] of Object.entries(await answers())) {
      expect(response.statusCode, label).toBe(Number(/\d{3}/.exec(label)?.[0]))
      expectSecurityHeaders(response, `${label} (${response.statusCode})`)
    }
  })

  it('marks every /api response no-store, errors and 404s included', async () => {
    for (const [label, response] of Object.entries(await answers())) {
      if (!label.startsWith('api')) continue
      expect(response.headers['cache-control'], `${label} (${response.statusCode})`).toBe(
        'no-store',
      )
    }
  })

  it('answers every error with {error, requestId} only: no stack, no SQL, no Fastify internals', async () => {
    for (const [label, response] of Object.entries(await answers())) {
      if (response.statusCode < 400) continue
      const body = response.json<Record<string, unknown>>()
      expect(Object.keys(body).sort(), label).toEqual(['error', 'requestId'])
      expect(body.requestId).toBe(response.headers['x-request-id'])
      expect(response.body).not.toMatch(/stack|SELECT|password_hash|FST_|at \//)
    }
  })

  it('logs a server failure once at error level with its cause, for operators', async () => {
    const response = await api.send({ method: 'GET', url: '/api/test/explode' })
    const entries = api.log.lines
      .map(
        (line) => JSON.parse(line) as { level: number; msg: string; reqId?: string; err?: unknown },
      )
      .filter(
        (entry) =>
          entry.msg === 'request failed' && entry.reqId === response.headers['x-request-id'],
      )
    expect(response.statusCode).toBe(500)
    expect(entries).toHaveLength(1)
    expect(entries[0]?.level).toBe(50)
    expect(entries[0]?.err).toMatchObject({ message: expect.stringContaining('relation "users"') })
  })
})

describe('text input', () => {
  it('refuses a NUL character in any text field with 400, never a server error', async () => {
    // PostgreSQL refuses NUL in text: unchecked, it surfaced as a 500 and
    // an error-level log line per request, which any client could cause.
    const documentId = (
      await api.send({
        method: 'POST',
        url: '/api/documents',
        access: account.access,
        body: { orgId: account.orgId, title: 'nul' },
      })
    ).json<{ id: string }>().id
    const nul = 'a\u0000b'
    const requests = {
      'sign-in email': {
        method: 'POST',
        url: '/api/auth/signin',
        body: { email: nul, password: TEST_PASSWORD },
      },
      'sign-up email': {
        method: 'POST',
        url: '/api/auth/signup',
        body: { email: `${nul}@example.test`, password: TEST_PASSWORD, name: 'N' },
      },
      'sign-up name': {
        method: 'POST',
        url: '/api/auth/signup',
        body: { email: `nul-${Date.now()}@example.test`, password: TEST_PASSWORD, name: nul },
      },
      'organisation name': {
        method: 'POST',
        url: '/api/orgs',
        access: account.access,
        body: { name: nul },
      },
      'organisation member': {
        method: 'PUT',
        url: `/api/orgs/${account.orgId}/members`,
        access: account.access,
        body: { email: nul, role: 'member' },
      },
      'document orgId': {
        method: 'POST',
        url: '/api/documents',
        access: account.access,
        body: { orgId: nul, title: 't' },
      },
      'document title': {
        method: 'POST',
        url: '/api/documents',
        access: account.access,
        body: { orgId: account.orgId, title: nul },
      },
      rename: {
        method: 'PATCH',
        url: `/api/documents/${documentId}`,
        access: account.access,
        body: { title: nul },
      },
      'share email': {
        method: 'PUT',
        url: `/api/documents/${documentId}/members`,
        access: account.access,
        body: { email: nul, role: 'viewer' },
      },
      'list orgId': { method: 'GET', url: '/api/documents?orgId=a%00b', access: account.access },
    } as const
    for (const [label, request] of Object.entries(requests)) {
      const before = api.log.lines.length
      const response = await api.send(request)
      expect(response.statusCode, label).toBe(400)
      const errors = api.log.lines.slice(before).filter((line) => /"level":50/.test(line))
      expect(errors, label).toEqual([])
    }
  })
})
