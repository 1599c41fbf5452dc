/**
 * Limits around sockets and sessions: no compression is negotiated, sockets
 * are capped per user and per address, and session checks fail closed when
 * Redis cannot answer.
 */
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiUser, upgradeStatus, whenProviderSynced } from '../support/accounts.js'
import { TestRedis } from '../support/faults.js'
import { startTestServer } from '../support/servers.js'

describe('socket and session limits', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  it('never negotiates compression, even when the client offers it', async () => {
    const server = await startTestServer({ store: 'embedded' })
    cleanups.push(server.dispose)
    const socket = new WebSocket(`${server.wsUrl}/sync/nocompress`, { perMessageDeflate: true })
    await new Promise((resolve) => socket.once('open', resolve))
    expect(socket.extensions).toBe('')
    socket.close()
  })

  it('caps open sockets per address (429 at the upgrade)', async () => {
    const server = await startTestServer({
      store: 'embedded',
      flags: { maxSocketsPerAddress: '3' },
    })
    cleanups.push(server.dispose)
    const url = `${server.wsUrl}/sync/capped`
    const open = await Promise.all([1, 2, 3].map(() => openSocket(url, {})))
    expect(await upgradeStatus(url, {})).toBe(429)
    for (const socket of open) socket.close()
  })

  it('caps open sockets per address when the upgrades all arrive at once', async () => {
    const server = await startTestServer({
      store: 'embedded',
      flags: { maxSocketsPerAddress: '5' },
    })
    cleanups.push(server.dispose)
    const url = `${server.wsUrl}/sync/burst`
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => openSocket(url, {})))
    const opened = outcomes.filter((outcome) => outcome.status === 'fulfilled')
    expect(opened).toHaveLength(5)
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String(o.reason))).toEqual(
      Array.from({ length: 15 }, () => 'Error: upgrade refused: 429'),
    )
    for (const outcome of opened) outcome.value.close()
  })

  it('caps open sockets per user (429 at the upgrade)', async () => {
    const server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', maxSocketsPerUser: '2' },
    })
    cleanups.push(server.dispose)
    const user = await ApiUser.signUp(server.url, 'Cap')
    const doc = await user.createDocument('capped')
    const headers = { origin: server.url, cookie: user.cookieHeader }
    const url = `${server.wsUrl}/sync/${doc}`
    const open = await Promise.all([1, 2].map(() => openSocket(url, headers)))
    expect(await upgradeStatus(url, headers)).toBe(429)
    for (const socket of open) socket.close()
  })

  it('refuses requests and upgrades when Redis cannot confirm a session (fail closed)', async () => {
    const redis = await TestRedis.start()
    cleanups.push(() => redis.stop())
    const server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', redisUrl: redis.url, redisPrefix: 'failclosed' },
    })
    cleanups.push(server.dispose)
    const user = await ApiUser.signUp(server.url, 'Fay')
    const doc = await user.createDocument('closed')
    const client = user.connect(server.wsUrl, doc)
    await whenProviderSynced(client.provider)
    client.provider.destroy()
    expect((await user.call('GET', '/api/auth/me')).status).toBe(200)

    await redis.stop()
    expect((await user.call('GET', '/api/auth/me')).status).toBe(401)
    expect(
      await upgradeStatus(`${server.wsUrl}/sync/${doc}`, {
        origin: server.url,
        cookie: user.cookieHeader,
      }),
    ).toBe(401)
  })

  it('limits sign-ups per address (429 with Retry-After)', async () => {
    const server = await startTestServer({ store: 'embedded', flags: { auth: 'required' } })
    cleanups.push(server.dispose)
    const statuses: number[] = []
    for (let i = 0; i < 21; i++) {
      const response = await fetch(`${server.url}/api/auth/signup`, {
        method: 'POST',
        headers: { origin: server.url, 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `u${i}@example.test`,
          password: 'long enough password',
          name: `U${i}`,
        }),
      })
      statuses.push(response.status)
      if (response.status === 429)
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    expect(statuses.slice(0, 20).every((status) => status === 201)).toBe(true)
    expect(statuses[20]).toBe(429)
  })

  it('counts sign-in failures per forwarded address only when the proxy is trusted', async () => {
    const failFrom = async (url: string, forwardedFor: string, i: number): Promise<number> =>
      (
        await fetch(`${url}/api/auth/signin`, {
          method: 'POST',
          headers: {
            origin: url,
            'content-type': 'application/json',
            'x-forwarded-for': forwardedFor,
          },
          body: JSON.stringify({
            email: `nobody${i}@example.test`,
            password: 'wrong password here',
          }),
        })
      ).status
    const trusting = await startTestServer({
      store: 'embedded',
      flags: { auth: 'required', trustProxy: '127.0.0.1' },
    })
    cleanups.push(trusting.dispose)
    const behindProxy = await Promise.all(
      Array.from({ length: 21 }, (_, i) => failFrom(trusting.url, `203.0.113.${i + 1}`, i)),
    )
    expect(behindProxy.every((status) => status === 401)).toBe(true)

    const direct = await startTestServer({ store: 'embedded', flags: { auth: 'required' } })
    cleanups.push(direct.dispose)
    const statuses: number[] = []
    for (let i = 0; i < 21; i++) statuses.push(await failFrom(direct.url, `203.0.113.${i + 1}`, i))
    expect(statuses[20]).toBe(429)
  })
})

const openSocket = (url: string, headers: Record<string, string>): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('open', () => resolve(socket))
    socket.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    )
  })
