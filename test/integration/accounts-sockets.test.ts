/**
 * Accounts at the WebSocket: the upgrade is authorized before any frame is
 * read (session, Origin, role), read-only roles cannot edit, presence
 * carries the server's identity, and revocations and role changes reach
 * open sockets, across nodes too.
 */
import { randomUUID } from 'node:crypto'
import { CloseCode } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { ApiUser, upgradeStatus, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'
import { waitUntil } from '../support/wait.js'

describe('accounts at the WebSocket (one node)', () => {
  let server: TestServer
  let owner: ApiUser
  let docId: string
  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres', flags: { auth: 'required' } })
    owner = await ApiUser.signUp(server.url, 'Olive')
    docId = await owner.createDocument('Plans')
  })
  afterAll(() => server.dispose())

  it('refuses upgrades without a session (401), from another origin (403), to unseen documents (404)', async () => {
    const url = `${server.wsUrl}/sync/${docId}`
    const origin = server.url
    expect(await upgradeStatus(url, { origin })).toBe(401)
    expect(await upgradeStatus(url, { origin, cookie: 'quire_access=forged.token.value' })).toBe(
      401,
    )
    expect(
      await upgradeStatus(url, { origin: 'https://evil.example', cookie: owner.cookieHeader }),
    ).toBe(403)
    expect(await upgradeStatus(url, { origin, cookie: owner.cookieHeader })).toBe(101)

    const stranger = await ApiUser.signUp(server.url, 'Stan')
    const strangersView = await upgradeStatus(url, { origin, cookie: stranger.cookieHeader })
    const missing = await upgradeStatus(`${server.wsUrl}/sync/doesNotExist123`, {
      origin,
      cookie: stranger.cookieHeader,
    })
    expect(strangersView).toBe(404)
    expect(missing).toBe(404)
  })

  it('stores nothing a refused client sent right after connecting (F13)', async () => {
    const target = await owner.createDocument('target')
    const evil = new Y.Doc()
    evil.getText('text').insert(0, 'EVIL')
    const socket = new WebSocket(`${server.wsUrl}/sync/${target}`, {
      headers: { origin: server.url, cookie: 'quire_access=bad' },
    })
    const status = await new Promise<number>((resolve) => {
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      socket.on('error', () => undefined)
    })
    expect(status).toBe(401)
    expect(await readStoredText(inject('databaseUrl'), target)).toBe('')
  })

  it('lets a viewer read but not edit, and stamps presence with the server-known name', async () => {
    const viewer = await ApiUser.signUp(server.url, 'Vera')
    // Vera must be in Olive's organisation to be shared with.
    const added = await owner.call('PUT', `/api/orgs/${owner.orgId}/members`, {
      email: viewer.email,
      role: 'member',
    })
    expect(added.status).toBe(200)
    const shared = await owner.call('PUT', `/api/documents/${docId}/members`, {
      email: viewer.email,
      role: 'viewer',
    })
    expect(shared.status).toBe(200)
    // Vera's organisation list now includes Olive's.
    const editor = owner.connect(server.wsUrl, docId)
    const reader = viewer.connect(server.wsUrl, docId)
    await Promise.all([whenProviderSynced(editor.provider), whenProviderSynced(reader.provider)])

    editor.doc.getText('text').insert(0, 'by Olive')
    await waitUntil(
      () => reader.doc.getText('text').toString() === 'by Olive',
      'viewer receives edits',
    )

    reader.provider.awareness.setLocalStateField('user', {
      name: 'Mallory',
      color: '#f00',
      email: 'ceo@example.test',
    })
    await waitUntil(
      () => editor.provider.awareness.getStates().has(reader.doc.clientID),
      'viewer presence',
    )
    const seen = editor.provider.awareness.getStates().get(reader.doc.clientID) as {
      user: { name: string; id: string; color: string }
    }
    expect(seen.user).toEqual({ name: 'Vera', id: viewer.userId, color: '#f00' })

    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      reader.provider.on('connection-close', (event) => {
        if (event !== null) resolve({ code: event.code, reason: event.reason })
      }),
    )
    reader.doc.getText('text').insert(0, 'VIEWER ')
    const { code, reason } = await closed
    expect(code).toBe(CloseCode.Forbidden)
    expect(reason).toMatch(/read-only/)
    // Give a wrongly accepted edit every chance to arrive, through a round trip.
    editor.doc.getText('text').insert(8, '!')
    const fresh = owner.connect(server.wsUrl, docId)
    await whenProviderSynced(fresh.provider)
    expect(fresh.doc.getText('text').toString()).toBe('by Olive!')
    for (const client of [editor, reader, fresh]) client.provider.destroy()
  })

  it('closes an open socket within 2 s of signing out, and logs no token or password', async () => {
    const user = await ApiUser.signUp(server.url, 'Sid')
    const own = await user.createDocument('mine')
    const client = user.connect(server.wsUrl, own)
    await whenProviderSynced(client.provider)
    const closed = new Promise<number>((resolve) =>
      client.provider.on('connection-close', (event) => {
        if (event !== null) resolve(event.code)
      }),
    )
    const signedOutAt = Date.now()
    const access = user.cookies.get('quire_access') ?? 'missing'
    expect((await user.call('POST', '/api/auth/signout')).status).toBe(204)
    expect(await closed).toBe(CloseCode.Unauthorized)
    expect(Date.now() - signedOutAt).toBeLessThan(2_000)
    client.provider.destroy()
    const everything = server.logs.raw.join('\n')
    expect(everything).not.toContain(access)
    expect(everything).not.toContain(user.password)
  })

  it('closes a socket within 1 s when the user loses access, and makes it read-only on a downgrade', async () => {
    const member = await ApiUser.signUp(server.url, 'Rhea')
    await owner.call('PUT', `/api/orgs/${owner.orgId}/members`, {
      email: member.email,
      role: 'member',
    })
    const doc = await owner.createDocument('roles')
    await owner.call('PUT', `/api/documents/${doc}/members`, {
      email: member.email,
      role: 'editor',
    })
    const client = member.connect(server.wsUrl, doc)
    await whenProviderSynced(client.provider)
    client.doc.getText('text').insert(0, 'edit ok')
    await waitUntil(
      async () => (await readStoredText(inject('databaseUrl'), doc)) === 'edit ok',
      'editor edit stored',
    )

    await owner.call('PUT', `/api/documents/${doc}/members`, {
      email: member.email,
      role: 'viewer',
    })
    const closes: number[] = []
    client.provider.on('connection-close', (event) => {
      if (event !== null) closes.push(event.code)
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    client.doc.getText('text').insert(0, 'not any more ')
    await waitUntil(() => closes.includes(CloseCode.Forbidden), 'downgraded socket refused', 2_000)
    client.provider.destroy()

    const again = member.connect(server.wsUrl, doc)
    await whenProviderSynced(again.provider)
    const removedAt = Date.now()
    const gone = new Promise<number>((resolve) =>
      again.provider.on('connection-close', (event) => {
        if (event !== null) resolve(event.code)
      }),
    )
    expect(
      (await owner.call('DELETE', `/api/documents/${doc}/members/${member.userId}`)).status,
    ).toBe(204)
    expect(await gone).toBe(CloseCode.NotFound)
    expect(Date.now() - removedAt).toBeLessThan(1_000)
    again.provider.destroy()
  })
})

describe('revocation across nodes (Redis)', () => {
  it('closes a socket on node B within 2 s of signing out through node A', async () => {
    const flags = {
      auth: 'required',
      redisUrl: inject('redisUrl'),
      redisPrefix: `qa${randomUUID().slice(0, 8)}`,
      publicOrigin: 'http://quire.test',
    } as const
    const a = await startTestServer({ store: 'postgres', flags })
    const b = await startTestServer({ store: 'postgres', flags })
    const user = await ApiUser.signUp(a.url, 'Nora', 'http://quire.test')
    const doc = await user.createDocument('across')
    const client = user.connect(b.wsUrl, doc)
    await whenProviderSynced(client.provider)
    const closed = new Promise<number>((resolve) =>
      client.provider.on('connection-close', (event) => {
        if (event !== null) resolve(event.code)
      }),
    )
    const at = Date.now()
    expect((await user.call('POST', '/api/auth/signout')).status).toBe(204)
    expect(await closed).toBe(CloseCode.Unauthorized)
    expect(Date.now() - at).toBeLessThan(2_000)
    client.provider.destroy()
    await a.dispose()
    await b.dispose()
  })
})
