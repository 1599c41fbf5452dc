/**
 * Document metadata and sharing over HTTP: who may see, rename, delete and
 * share, and that a hidden document cannot be told from a missing one.
 */
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DocumentInfo } from '../../auth/index.js'
import {
  createTestApi,
  openTestStore,
  signUp,
  type TestAccount,
  type TestApi,
  type TestStore,
  withoutRequestId,
} from '../api-test-support.js'

let testStore: TestStore
let api: TestApi
/** Admin of her organisation, so owner of its documents. */
let alice: TestAccount
/** A plain member of alice's organisation. */
let bob: TestAccount
/** In an organisation of her own only. */
let carol: TestAccount

/** A well-formed id no document has. */
const UNKNOWN_ID = 'ZZZZnotAdocument'

beforeAll(async () => {
  testStore = await openTestStore()
  api = await createTestApi(testStore.store)
  alice = await signUp(api, 'Alice')
  bob = await signUp(api, 'Bob')
  carol = await signUp(api, 'Carol')
  const joined = await api.send({
    method: 'PUT',
    url: `/api/orgs/${alice.orgId}/members`,
    access: alice.access,
    body: { email: bob.email, role: 'member' },
  })
  expect(joined.statusCode).toBe(200)
})

afterAll(async () => {
  await api.close()
  await testStore.close()
})

const createDocument = async (title: string, by = alice, orgId = alice.orgId) => {
  const response = await api.send({
    method: 'POST',
    url: '/api/documents',
    access: by.access,
    body: { orgId, title },
  })
  expect(response.statusCode).toBe(201)
  return response.json<DocumentInfo>()
}

const share = (docId: string, email: string, role: string, by = alice) =>
  api.send({
    method: 'PUT',
    url: `/api/documents/${docId}/members`,
    access: by.access,
    body: { email, role },
  })

const getDocument = (docId: string, by: TestAccount) =>
  api.send({ method: 'GET', url: `/api/documents/${docId}`, access: by.access })

const rename = (docId: string, title: string, by: TestAccount) =>
  api.send({ method: 'PATCH', url: `/api/documents/${docId}`, access: by.access, body: { title } })

const expectNotFound = (response: LightMyRequestResponse): void => {
  expect(response.statusCode).toBe(404)
  expect(withoutRequestId(response)).toEqual({ error: 'not found' })
}

describe('creating', () => {
  it('creates a document in an organisation of the caller with them as owner', async () => {
    const response = await api.send({
      method: 'POST',
      url: '/api/documents',
      access: bob.access,
      body: { orgId: alice.orgId, title: 'Plan' },
    })

    expect(response.statusCode).toBe(201)
    const document = response.json<DocumentInfo>()
    expect(document).toMatchObject({ orgId: alice.orgId, title: 'Plan', role: 'owner' })
    expect((await getDocument(document.id, bob)).json()).toEqual(document)
  })

  it('answers 404 for an organisation the caller is not in, as for one that does not exist', async () => {
    const foreign = await api.send({
      method: 'POST',
      url: '/api/documents',
      access: carol.access,
      body: { orgId: alice.orgId, title: 'Intrusion' },
    })
    const unknown = await api.send({
      method: 'POST',
      url: '/api/documents',
      access: carol.access,
      body: { orgId: UNKNOWN_ID, title: 'Nowhere' },
    })

    expectNotFound(foreign)
    expect(withoutRequestId(foreign)).toEqual(withoutRequestId(unknown))
  })

  it('answers 400 for a missing or overlong title', async () => {
    for (const body of [{ orgId: alice.orgId }, { orgId: alice.orgId, title: 'x'.repeat(201) }]) {
      const response = await api.send({
        method: 'POST',
        url: '/api/documents',
        access: alice.access,
        body,
      })
      expect(response.statusCode).toBe(400)
    }
  })
})

describe('seeing', () => {
  it('answers a caller without a role exactly as for an id that does not exist', async () => {
    const document = await createDocument('Secret plans')
    const path = `/api/documents/${document.id}`
    const attempts = (who: TestAccount, id: string) => [
      api.send({ method: 'GET', url: `/api/documents/${id}`, access: who.access }),
      api.send({
        method: 'PATCH',
        url: `/api/documents/${id}`,
        access: who.access,
        body: { title: 'x' },
      }),
      api.send({ method: 'DELETE', url: `/api/documents/${id}`, access: who.access }),
      api.send({ method: 'GET', url: `/api/documents/${id}/members`, access: who.access }),
      api.send({
        method: 'PUT',
        url: `/api/documents/${id}/members`,
        access: who.access,
        body: { email: who.email, role: 'owner' },
      }),
      api.send({
        method: 'DELETE',
        url: `/api/documents/${id}/members/${alice.userId}`,
        access: who.access,
      }),
    ]

    const missing = await Promise.all(attempts(carol, UNKNOWN_ID))
    for (const outsider of [carol, bob]) {
      const hidden = await Promise.all(attempts(outsider, document.id))
      hidden.forEach((response, index) => {
        expectNotFound(response)
        const reference = missing[index]
        if (reference === undefined) throw new Error('one reference per attempt')
        expect(withoutRequestId(response)).toEqual(withoutRequestId(reference))
        expect(response.headers['content-length']).toBe(reference.headers['content-length'])
      })
    }
    expect((await api.send({ method: 'GET', url: path, access: alice.access })).statusCode).toBe(
      200,
    )
  })

  it('answers 400 for a malformed id on every document route', async () => {
    for (const id of ['bad%20id', '-leading-dash', 'a'.repeat(65), 'dot.ted']) {
      const responses = await Promise.all([
        api.send({ method: 'GET', url: `/api/documents/${id}`, access: alice.access }),
        rename(id, 'x', alice),
        api.send({ method: 'DELETE', url: `/api/documents/${id}`, access: alice.access }),
        api.send({ method: 'GET', url: `/api/documents/${id}/members`, access: alice.access }),
        share(id, bob.email, 'viewer'),
      ])
      for (const response of responses) {
        expect(response.statusCode, id).toBe(400)
        expect(withoutRequestId(response)).toEqual({ error: 'malformed document id' })
      }
    }
  })

  it('lists only what the caller may see, by organisation and by title, ignoring case', async () => {
    const report = await createDocument('Quarterly REPORT draft')
    const notes = await createDocument('Meeting notes')
    expect((await share(report.id, bob.email, 'viewer')).statusCode).toBe(200)
    const list = async (who: TestAccount, query: string) => {
      const response = await api.send({
        method: 'GET',
        url: `/api/documents${query}`,
        access: who.access,
      })
      expect(response.statusCode).toBe(200)
      return response.json<{ documents: DocumentInfo[] }>().documents.map((d) => d.id)
    }

    const bobSees = await list(bob, `?orgId=${alice.orgId}`)
    expect(bobSees).toContain(report.id)
    expect(bobSees).not.toContain(notes.id)
    expect(await list(alice, '?q=quarterly%20report')).toEqual([report.id])
    expect(await list(alice, `?orgId=${alice.orgId}&q=MEETING`)).toEqual([notes.id])
    expect(await list(alice, `?orgId=${carol.orgId}`)).toEqual([])
    expect(await list(carol, `?orgId=${alice.orgId}`)).toEqual([])
    expect(await list(carol, '')).not.toContain(report.id)
  })
})

describe('roles', () => {
  it('lets owners and editors rename, and refuses commenters and viewers with 403', async () => {
    const document = await createDocument('Draft')

    for (const role of ['viewer', 'commenter']) {
      expect((await share(document.id, bob.email, role)).statusCode).toBe(200)
      const refused = await rename(document.id, 'Hijacked', bob)
      expect(refused.statusCode).toBe(403)
      expect(withoutRequestId(refused)).toEqual({
        error: 'your role on this document does not allow this',
      })
    }
    expect((await share(document.id, bob.email, 'editor')).statusCode).toBe(200)
    const renamed = await rename(document.id, '  Final  ', bob)

    expect(renamed.statusCode).toBe(200)
    expect(renamed.json()).toMatchObject({ id: document.id, title: 'Final', role: 'editor' })
    expect((await getDocument(document.id, alice)).json()).toMatchObject({ title: 'Final' })
    expect(api.changes).toEqual(
      expect.arrayContaining([{ docId: document.id, userId: bob.userId }]),
    )
  })

  it('lets only an owner delete, then answers 404 and tells every node', async () => {
    const document = await createDocument('Doomed')
    expect((await share(document.id, bob.email, 'editor')).statusCode).toBe(200)

    const byEditor = await api.send({
      method: 'DELETE',
      url: `/api/documents/${document.id}`,
      access: bob.access,
    })
    const byOwner = await api.send({
      method: 'DELETE',
      url: `/api/documents/${document.id}`,
      access: alice.access,
    })

    expect(byEditor.statusCode).toBe(403)
    expect(byOwner.statusCode).toBe(204)
    expect(api.changes).toContainEqual({ docId: document.id, userId: null })
    expectNotFound(await getDocument(document.id, alice))
    expectNotFound(await getDocument(document.id, bob))
  })
})

describe('members', () => {
  it('shares with a member of the organisation, lists and unshares, telling every node each time', async () => {
    const document = await createDocument('Shared')
    const before = api.changes.length

    const shared = await share(document.id, bob.email.toUpperCase(), 'commenter')
    const members = await api.send({
      method: 'GET',
      url: `/api/documents/${document.id}/members`,
      access: alice.access,
    })
    const unshared = await api.send({
      method: 'DELETE',
      url: `/api/documents/${document.id}/members/${bob.userId}`,
      access: alice.access,
    })

    expect(shared.statusCode).toBe(200)
    expect(shared.json()).toEqual({
      id: bob.userId,
      email: bob.email,
      name: 'Bob',
      role: 'commenter',
    })
    expect(members.statusCode).toBe(200)
    expect(members.json<{ members: { id: string; role: string }[] }>().members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: alice.userId, role: 'owner' }),
        expect.objectContaining({ id: bob.userId, role: 'commenter' }),
      ]),
    )
    expect(unshared.statusCode).toBe(204)
    expect(api.changes.slice(before)).toEqual([
      { docId: document.id, userId: bob.userId },
      { docId: document.id, userId: bob.userId },
    ])
    expectNotFound(await getDocument(document.id, bob))
  })

  it('answers 404 for an unknown email or someone outside the organisation, sharing nothing', async () => {
    const document = await createDocument('Private')
    const before = api.changes.length

    for (const email of [carol.email, 'nobody@example.test']) {
      const response = await share(document.id, email, 'viewer')
      expect(response.statusCode).toBe(404)
      expect(withoutRequestId(response)).toEqual({
        error: 'no member of the organisation has this email',
      })
    }
    expect(api.changes.length).toBe(before)
    expectNotFound(await getDocument(document.id, carol))
  })

  it('lets only the owner see or change members (403 for other roles)', async () => {
    const document = await createDocument('Guarded')
    expect((await share(document.id, bob.email, 'editor')).statusCode).toBe(200)

    const list = await api.send({
      method: 'GET',
      url: `/api/documents/${document.id}/members`,
      access: bob.access,
    })
    const promote = await share(document.id, bob.email, 'owner', bob)
    const remove = await api.send({
      method: 'DELETE',
      url: `/api/documents/${document.id}/members/${alice.userId}`,
      access: bob.access,
    })

    expect([list.statusCode, promote.statusCode, remove.statusCode]).toEqual([403, 403, 403])
    expect((await getDocument(document.id, bob)).json()).toMatchObject({ role: 'editor' })
  })

  it('answers 400 for an unknown role or a malformed user id', async () => {
    const document = await createDocument('Strict')
    const badRole = await share(document.id, bob.email, 'superuser')
    const badUser = await api.send({
      method: 'DELETE',
      url: `/api/documents/${document.id}/members/not%20an%20id`,
      access: alice.access,
    })
    expect(badRole.statusCode).toBe(400)
    expect(badUser.statusCode).toBe(400)
  })
})

describe('authentication', () => {
  it('answers 401 on every document route without a valid access cookie', async () => {
    const document = await createDocument('Anyone?')
    const responses = await Promise.all([
      api.send({ method: 'GET', url: '/api/documents' }),
      api.send({ method: 'POST', url: '/api/documents', body: { orgId: alice.orgId, title: 'x' } }),
      api.send({ method: 'GET', url: `/api/documents/${document.id}` }),
      api.send({ method: 'GET', url: `/api/documents/${document.id}`, access: 'forged' }),
      api.send({ method: 'PATCH', url: `/api/documents/${document.id}`, body: { title: 'x' } }),
      api.send({ method: 'DELETE', url: `/api/documents/${document.id}` }),
      api.send({ method: 'GET', url: `/api/documents/${document.id}/members` }),
    ])
    for (const response of responses) {
      expect(response.statusCode).toBe(401)
      expect(withoutRequestId(response)).toEqual({ error: 'not signed in' })
    }
  })
})
