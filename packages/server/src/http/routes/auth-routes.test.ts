/**
 * Sign-up, sign-in, refresh, sign-out and password change over HTTP, on the
 * real account services and an embedded store.
 */
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LOGIN_LIMITS } from '../../auth/index.js'
import { COOKIE, REFRESH_PATH } from '../api-dependencies.js'
import {
  ACCESS_TTL_S,
  createTestApi,
  openTestStore,
  readSessionCookies,
  readSetCookies,
  REFRESH_TTL_S,
  signUp,
  type TestApi,
  TEST_PASSWORD,
  type TestStore,
  withoutRequestId,
} from '../api-test-support.js'

let testStore: TestStore
let api: TestApi

beforeAll(async () => {
  testStore = await openTestStore()
  api = await createTestApi(testStore.store)
})

afterAll(async () => {
  await api.close()
  await testStore.close()
})

/** Asserts every attribute of a session cookie the response set. */
const expectCookie = (
  response: LightMyRequestResponse,
  name: string,
  expected: { path: string; maxAge: number; isEmpty?: boolean },
): void => {
  const cookie = readSetCookies(response).get(name)
  expect(cookie, `${name} is set`).toBeDefined()
  expect(cookie?.attributes).toMatchObject({
    httponly: true,
    secure: true,
    samesite: 'Strict',
    path: expected.path,
    'max-age': String(expected.maxAge),
  })
  if (expected.isEmpty === true) expect(cookie?.value).toBe('')
  else expect(cookie?.value.length).toBeGreaterThan(20)
}

const expectBothCookiesSet = (response: LightMyRequestResponse): void => {
  expectCookie(response, COOKIE.access, { path: '/', maxAge: ACCESS_TTL_S })
  expectCookie(response, COOKIE.refresh, { path: REFRESH_PATH, maxAge: REFRESH_TTL_S })
}

const expectBothCookiesCleared = (response: LightMyRequestResponse): void => {
  expectCookie(response, COOKIE.access, { path: '/', maxAge: 0, isEmpty: true })
  expectCookie(response, COOKIE.refresh, { path: REFRESH_PATH, maxAge: 0, isEmpty: true })
}

const signIn = (email: string, password = TEST_PASSWORD, target = api) =>
  target.send({ method: 'POST', url: '/api/auth/signin', body: { email, password } })

const refresh = (token: string | undefined, target = api) =>
  target.send({
    method: 'POST',
    url: REFRESH_PATH,
    ...(token === undefined ? {} : { refresh: token }),
  })

const me = (access: string | undefined, target = api) =>
  target.send({ method: 'GET', url: '/api/auth/me', ...(access === undefined ? {} : { access }) })

/** Waits until the wall clock is past `timeMs`; polls so it waits no longer than needed. */
const waitUntilPast = async (timeMs: number): Promise<void> => {
  while (Date.now() <= timeMs) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('sign-up', () => {
  it('answers 201 with the user and organisation and sets both cookies with every attribute', async () => {
    const email = `new-${Date.now()}@example.test`
    const response = await api.send({
      method: 'POST',
      url: '/api/auth/signup',
      body: { email, password: TEST_PASSWORD, name: 'Ada' },
    })

    expect(response.statusCode).toBe(201)
    const body = response.json<{ user: { email: string }; organisation: { role: string } }>()
    expect(body.user.email).toBe(email)
    expect(body.organisation.role).toBe('admin')
    expect(Object.keys(body).sort()).toEqual(['organisation', 'user'])
    expectBothCookiesSet(response)
  })

  it('answers 409 for a taken email, whatever its case', async () => {
    const account = await signUp(api)
    const response = await api.send({
      method: 'POST',
      url: '/api/auth/signup',
      body: { email: account.email.toUpperCase(), password: TEST_PASSWORD, name: 'Twin' },
    })

    expect(response.statusCode).toBe(409)
    expect(readSetCookies(response).size).toBe(0)
  })

  it('answers 400 with a short message for missing fields, a short password or a bad email', async () => {
    const bodies = [
      { email: 'a@example.test', password: TEST_PASSWORD },
      { email: 'a@example.test', password: 'short', name: 'A' },
      { email: 'not an email', password: TEST_PASSWORD, name: 'A' },
      { email: 'a@example.test', password: 7, name: 'A' },
      ['not', 'an', 'object'],
    ]
    for (const body of bodies) {
      const response = await api.send({ method: 'POST', url: '/api/auth/signup', body })
      expect(response.statusCode, JSON.stringify(body)).toBe(400)
      const { error } = response.json<{ error: string }>()
      expect(error.length).toBeGreaterThan(0)
      expect(error.length).toBeLessThan(120)
    }
  })
})

describe('sign-in', () => {
  it('answers an unknown email and a wrong password with the same status and body', async () => {
    const account = await signUp(api)

    const unknown = await signIn(`nobody-${Date.now()}@example.test`)
    const wrong = await signIn(account.email, 'wrong password, long enough')

    expect(unknown.statusCode).toBe(401)
    expect(wrong.statusCode).toBe(401)
    expect(withoutRequestId(unknown)).toEqual({ error: 'invalid email or password' })
    expect(withoutRequestId(wrong)).toEqual(withoutRequestId(unknown))
    expect(readSetCookies(unknown).size).toBe(0)
    expect(readSetCookies(wrong).size).toBe(0)
  })

  it('answers 200 with the user and sets both cookies', async () => {
    const account = await signUp(api)
    const response = await signIn(account.email)

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      user: { id: account.userId, email: account.email, name: 'Test User' },
    })
    expectBothCookiesSet(response)
  })

  it('answers the sixth failure in a row with 429 and Retry-After in seconds', async () => {
    // A fresh limiter, so other tests' failures from the same address do not count.
    const limited = await createTestApi(testStore.store)
    try {
      const account = await signUp(limited)
      for (let attempt = 1; attempt <= 5; attempt++) {
        expect(
          (await signIn(account.email, 'wrong password, long enough', limited)).statusCode,
        ).toBe(401)
      }

      const sixth = await signIn(account.email, 'wrong password, long enough', limited)
      const rightPassword = await signIn(account.email, TEST_PASSWORD, limited)

      expect(sixth.statusCode).toBe(429)
      const retryAfterS = Number(sixth.headers['retry-after'])
      expect(Number.isInteger(retryAfterS)).toBe(true)
      expect(retryAfterS).toBeGreaterThan(0)
      expect(retryAfterS).toBeLessThanOrEqual(15 * 60)
      expect(Object.keys(sixth.json()).sort()).toEqual(['error', 'requestId'])
      expect(rightPassword.statusCode).toBe(429)
      expect(readSetCookies(rightPassword).size).toBe(0)
    } finally {
      await limited.close()
    }
  })

  it('lets no more guesses through than the budget when they all arrive at once', async () => {
    // Each guess spends an argon2 verification before it is counted; a
    // burst sent together must not all pass the check made before it.
    const limited = await createTestApi(testStore.store)
    try {
      const account = await signUp(limited)
      const burst = await Promise.all(
        Array.from({ length: 20 }, () =>
          signIn(account.email, 'wrong password, long enough', limited),
        ),
      )

      const statuses = burst.map((response) => response.statusCode)
      expect(statuses.filter((status) => status === 401)).toHaveLength(5)
      expect(statuses.filter((status) => status === 429)).toHaveLength(15)
    } finally {
      await limited.close()
    }
  })

  it('does not count a successful sign-in against the address', async () => {
    const limits = { ...DEFAULT_LOGIN_LIMITS, maxFailuresPerAddress: 3 }
    const limited = await createTestApi(testStore.store, { loginLimits: limits })
    try {
      const account = await signUp(limited)
      for (let i = 0; i < 5; i++)
        expect((await signIn(account.email, TEST_PASSWORD, limited)).statusCode).toBe(200)
    } finally {
      await limited.close()
    }
  })
})

describe('refresh', () => {
  it('rotates the refresh token and sets both cookies again', async () => {
    const account = await signUp(api)
    const response = await refresh(account.refresh)

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      user: { id: account.userId, email: account.email, name: 'Test User' },
    })
    expectBothCookiesSet(response)
    const next = readSessionCookies(response)
    expect(next.refresh).not.toBe(account.refresh)
    expect((await me(next.access)).statusCode).toBe(200)
  })

  it('accepts the previous token within the grace window without a new refresh cookie, and revokes the family after it', async () => {
    const graceMs = 300
    const short = await createTestApi(testStore.store, { rotationGraceMs: graceMs })
    try {
      const account = await signUp(short)
      const rotated = await refresh(account.refresh, short)
      const rotatedByMs = Date.now()
      const newest = readSessionCookies(rotated)
      expect(rotated.statusCode).toBe(200)
      expect(newest.refresh).not.toBe(account.refresh)

      // A second tab presenting the same token at the same moment.
      const concurrent = await refresh(account.refresh, short)
      expect(concurrent.statusCode).toBe(200)
      expectCookie(concurrent, COOKIE.access, { path: '/', maxAge: ACCESS_TTL_S })
      expect(readSetCookies(concurrent).has(COOKIE.refresh)).toBe(false)

      // Only a stolen copy is presented after the grace window.
      await waitUntilPast(rotatedByMs + graceMs)
      const replayed = await refresh(account.refresh, short)
      expect(replayed.statusCode).toBe(401)
      expectBothCookiesCleared(replayed)

      expect((await refresh(newest.refresh, short)).statusCode).toBe(401)
      expect((await me(newest.access, short)).statusCode).toBe(401)
    } finally {
      await short.close()
    }
  })

  it('answers 401 and clears both cookies for a missing or unknown refresh cookie', async () => {
    for (const token of [undefined, 'not-a-refresh-token']) {
      const response = await refresh(token)
      expect(response.statusCode).toBe(401)
      expect(withoutRequestId(response)).toEqual({ error: 'not signed in' })
      expectBothCookiesCleared(response)
    }
  })
})

describe('sign-out', () => {
  it('revokes the session, clears both cookies and asks the browser to drop its caches', async () => {
    const account = await signUp(api)
    const response = await api.send({
      method: 'POST',
      url: '/api/auth/signout',
      access: account.access,
    })

    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
    expectBothCookiesCleared(response)
    expect(response.headers['clear-site-data']).toBe('"cache", "storage"')
    expect((await me(account.access)).statusCode).toBe(401)
    expect((await refresh(account.refresh)).statusCode).toBe(401)
  })

  it('answers 204 and clears the cookies without a valid access cookie', async () => {
    for (const access of [undefined, 'garbage']) {
      const response = await api.send({
        method: 'POST',
        url: '/api/auth/signout',
        ...(access === undefined ? {} : { access }),
      })
      expect(response.statusCode).toBe(204)
      expectBothCookiesCleared(response)
    }
  })
})

describe('me', () => {
  it('answers the user and their organisations with roles', async () => {
    const account = await signUp(api, 'Grace')
    const response = await me(account.access)

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      user: { id: account.userId, email: account.email, name: 'Grace' },
      organisations: [{ id: account.orgId, name: "Grace's organisation", role: 'admin' }],
    })
  })

  it('answers 401 without a cookie, with a forged one, and with the refresh token as access', async () => {
    const account = await signUp(api)
    const forged = `${account.access.slice(0, -4)}AAAA`
    for (const access of [undefined, forged, account.refresh]) {
      const response = await me(access)
      expect(response.statusCode).toBe(401)
      expect(withoutRequestId(response)).toEqual({ error: 'not signed in' })
    }
  })
})

describe('password change', () => {
  const changePassword = (access: string, currentPassword: string, newPassword: string) =>
    api.send({
      method: 'POST',
      url: '/api/auth/password',
      access,
      body: { currentPassword, newPassword },
    })

  it('ends every session of the user and starts a new one for this client', async () => {
    const account = await signUp(api)
    const other = readSessionCookies(await signIn(account.email))
    const newPassword = 'a brand new passphrase'

    const response = await changePassword(account.access, TEST_PASSWORD, newPassword)

    expect(response.statusCode).toBe(204)
    expectBothCookiesSet(response)
    const fresh = readSessionCookies(response)
    expect((await me(fresh.access)).statusCode).toBe(200)
    expect((await me(account.access)).statusCode).toBe(401)
    expect((await me(other.access)).statusCode).toBe(401)
    expect((await refresh(other.refresh)).statusCode).toBe(401)
    expect((await signIn(account.email)).statusCode).toBe(401)
    expect((await signIn(account.email, newPassword)).statusCode).toBe(200)
  })

  it('answers 401 for a wrong current password and 400 for a short new one, changing nothing', async () => {
    const account = await signUp(api)

    const wrong = await changePassword(
      account.access,
      'not the password at all',
      'another passphrase',
    )
    const short = await changePassword(account.access, TEST_PASSWORD, 'short')

    expect(wrong.statusCode).toBe(401)
    expect(short.statusCode).toBe(400)
    expect(readSetCookies(wrong).size).toBe(0)
    expect((await me(account.access)).statusCode).toBe(200)
    expect((await signIn(account.email)).statusCode).toBe(200)
  })

  it('answers 401 without an access cookie', async () => {
    const response = await api.send({
      method: 'POST',
      url: '/api/auth/password',
      body: { currentPassword: TEST_PASSWORD, newPassword: 'a brand new passphrase' },
    })
    expect(response.statusCode).toBe(401)
  })
})

describe('secrecy', () => {
  it('never puts a token or a password in a response body or a log line', async () => {
    const secretPassword = 'do-not-log-this passphrase'
    const newPassword = 'do-not-log-this either'
    const email = `secret-${Date.now()}@example.test`
    const responses: LightMyRequestResponse[] = []
    const record = async (request: Promise<LightMyRequestResponse>) => {
      const response = await request
      responses.push(response)
      return response
    }

    const created = await record(
      api.send({
        method: 'POST',
        url: '/api/auth/signup',
        body: { email, password: secretPassword, name: 'Secret' },
      }),
    )
    await record(signIn(email, 'a wrong password, long enough'))
    const signedIn = await record(signIn(email, secretPassword))
    const refreshed = await record(refresh(readSessionCookies(signedIn).refresh))
    const changed = await record(
      api.send({
        method: 'POST',
        url: '/api/auth/password',
        access: readSessionCookies(refreshed).access,
        body: { currentPassword: secretPassword, newPassword },
      }),
    )
    await record(
      api.send({
        method: 'POST',
        url: '/api/auth/signout',
        access: readSessionCookies(changed).access,
      }),
    )

    const secrets = [secretPassword, newPassword]
    for (const response of [created, signedIn, refreshed, changed]) {
      const { access, refresh: refreshToken } = readSessionCookies(response)
      for (const token of [access, refreshToken]) if (token !== undefined) secrets.push(token)
    }
    expect(secrets.length).toBeGreaterThanOrEqual(9)
    const bodies = responses.map((response) => response.body).join('\n')
    const logText = [...api.log.lines, ...testStore.log.lines].join('\n')
    expect(api.log.lines.some((line) => line.includes('user signed in'))).toBe(true)
    for (const secret of secrets) {
      expect(bodies).not.toContain(secret)
      expect(logText).not.toContain(secret)
    }
  })
})
