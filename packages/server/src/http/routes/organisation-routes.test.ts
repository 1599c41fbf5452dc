/**
 * Organisations and their members over HTTP: members may look, admins may
 * change, outsiders see nothing, and an organisation keeps an admin.
 */
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

beforeAll(async () => {
  testStore = await openTestStore()
  api = await createTestApi(testStore.store)
})

afterAll(async () => {
  await api.close()
  await testStore.close()
})

const setMember = (orgId: string, email: string, role: string, by: TestAccount) =>
  api.send({
    method: 'PUT',
    url: `/api/orgs/${orgId}/members`,
    access: by.access,
    body: { email, role },
  })

const removeMember = (orgId: string, userId: string, by: TestAccount) =>
  api.send({ method: 'DELETE', url: `/api/orgs/${orgId}/members/${userId}`, access: by.access })

const listMembers = (orgId: string, by: TestAccount) =>
  api.send({ method: 'GET', url: `/api/orgs/${orgId}/members`, access: by.access })

/** An admin with a plain member and an outsider. */
const setUpOrganisation = async () => {
  const admin = await signUp(api, 'Admin')
  const member = await signUp(api, 'Member')
  const outsider = await signUp(api, 'Outsider')
  expect((await setMember(admin.orgId, member.email, 'member', admin)).statusCode).toBe(200)
  return { admin, member, outsider, orgId: admin.orgId }
}

describe('organisations', () => {
  it('lists the caller’s organisations and creates new ones with the caller as admin', async () => {
    const account = await signUp(api, 'Founder')

    const created = await api.send({
      method: 'POST',
      url: '/api/orgs',
      access: account.access,
      body: { name: '  Skunkworks ' },
    })
    const listed = await api.send({ method: 'GET', url: '/api/orgs', access: account.access })

    expect(created.statusCode).toBe(201)
    const organisation = created.json<{ id: string }>()
    expect(organisation).toEqual({ id: organisation.id, name: 'Skunkworks', role: 'admin' })
    expect(listed.json()).toEqual({
      organisations: [
        { id: account.orgId, name: "Founder's organisation", role: 'admin' },
        organisation,
      ],
    })
  })

  it('answers 400 for an empty or overlong name and 401 without a caller', async () => {
    const account = await signUp(api)
    for (const name of ['   ', 'x'.repeat(101)]) {
      const response = await api.send({
        method: 'POST',
        url: '/api/orgs',
        access: account.access,
        body: { name },
      })
      expect(response.statusCode).toBe(400)
    }
    expect((await api.send({ method: 'GET', url: '/api/orgs' })).statusCode).toBe(401)
  })
})

describe('members', () => {
  it('lets members list members and answers outsiders as for an unknown organisation', async () => {
    const { admin, member, outsider, orgId } = await setUpOrganisation()

    const byMember = await listMembers(orgId, member)
    const byOutsider = await listMembers(orgId, outsider)
    const unknown = await listMembers('ZZZZnotAnOrg', outsider)
    const malformed = await listMembers('not%20an%20id', admin)

    expect(byMember.statusCode).toBe(200)
    expect(byMember.json<{ members: { id: string; role: string }[] }>().members).toEqual(
      expect.arrayContaining([
        { id: admin.userId, email: admin.email, name: 'Admin', role: 'admin' },
        { id: member.userId, email: member.email, name: 'Member', role: 'member' },
      ]),
    )
    expect(byOutsider.statusCode).toBe(404)
    expect(withoutRequestId(byOutsider)).toEqual(withoutRequestId(unknown))
    expect(malformed.statusCode).toBe(400)
  })

  it('lets an admin add a member by email, telling nodes the user’s access changed', async () => {
    const { admin, outsider, orgId } = await setUpOrganisation()

    const response = await setMember(orgId, outsider.email, 'member', admin)

    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      id: outsider.userId,
      email: outsider.email,
      name: 'Outsider',
      role: 'member',
    })
    expect(api.changes.at(-1)).toEqual({ docId: '*', userId: outsider.userId })
    expect((await listMembers(orgId, outsider)).statusCode).toBe(200)
  })

  it('refuses a plain member with 403 and an outsider with 404, changing nothing', async () => {
    const { member, outsider, orgId } = await setUpOrganisation()
    const before = api.changes.length

    const byMember = await setMember(orgId, member.email, 'admin', member)
    const byOutsider = await setMember(orgId, outsider.email, 'admin', outsider)
    const removeByMember = await removeMember(orgId, member.userId, member)
    const removeByOutsider = await removeMember(orgId, member.userId, outsider)

    expect(byMember.statusCode).toBe(403)
    expect(removeByMember.statusCode).toBe(403)
    expect(byOutsider.statusCode).toBe(404)
    expect(removeByOutsider.statusCode).toBe(404)
    expect(api.changes.length).toBe(before)
    expect((await listMembers(orgId, outsider)).statusCode).toBe(404)
  })

  it('answers 404 for an unknown email and 400 for an unknown role', async () => {
    const { admin, member, orgId } = await setUpOrganisation()
    const unknown = await setMember(orgId, 'nobody@example.test', 'member', admin)
    const badRole = await setMember(orgId, member.email, 'owner', admin)
    expect(unknown.statusCode).toBe(404)
    expect(badRole.statusCode).toBe(400)
  })

  it('removes a member and their document roles, telling nodes', async () => {
    const { admin, member, orgId } = await setUpOrganisation()
    const created = await api.send({
      method: 'POST',
      url: '/api/documents',
      access: admin.access,
      body: { orgId, title: 'Team doc' },
    })
    const document = created.json<DocumentInfo>()
    const shared = await api.send({
      method: 'PUT',
      url: `/api/documents/${document.id}/members`,
      access: admin.access,
      body: { email: member.email, role: 'editor' },
    })
    expect(shared.statusCode).toBe(200)

    const removed = await removeMember(orgId, member.userId, admin)
    const again = await removeMember(orgId, member.userId, admin)

    expect(removed.statusCode).toBe(204)
    expect(api.changes).toContainEqual({ docId: '*', userId: member.userId })
    expect(again.statusCode).toBe(404)
    const seen = await api.send({
      method: 'GET',
      url: `/api/documents/${document.id}`,
      access: member.access,
    })
    expect(seen.statusCode).toBe(404)
    expect((await listMembers(orgId, member)).statusCode).toBe(404)
  })

  it('keeps at least one admin: the last one can be neither demoted nor removed (409)', async () => {
    const { admin, member, orgId } = await setUpOrganisation()

    const demoteSelf = await setMember(orgId, admin.email, 'member', admin)
    const removeSelf = await removeMember(orgId, admin.userId, admin)
    expect(demoteSelf.statusCode).toBe(409)
    expect(removeSelf.statusCode).toBe(409)

    expect((await setMember(orgId, member.email, 'admin', admin)).statusCode).toBe(200)
    expect((await setMember(orgId, admin.email, 'member', admin)).statusCode).toBe(200)
    expect((await removeMember(orgId, admin.userId, member)).statusCode).toBe(204)
  })
})
