/**
 * /api/orgs: the caller's organisations and their members. Members may list
 * members; only admins change them. To anyone outside an organisation it
 * does not exist (404, the same as an unknown id).
 */
import { isDocumentId } from '@quire/protocol'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import type { OrganisationRole } from '../../auth/index.js'
import type { ApiDependencies } from '../api-dependencies.js'
import {
  callerOf,
  createCallerHook,
  decodeOrReply,
  NOT_FOUND,
  sendError,
  text,
} from '../route-support.js'

const CREATE_BODY = z.object({ name: text().trim().min(1).max(100) })
const MEMBER_BODY = z.object({
  email: text().max(320),
  role: z.enum(['admin', 'member']),
})

interface OrgParams {
  readonly orgId: string
}

interface MemberParams extends OrgParams {
  readonly userId: string
}

/** The caller's standing in an organisation, or the error to answer with. */
type OrganisationAccess =
  | { readonly ok: true; readonly role: OrganisationRole }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly error: string }

/** The answer when the last admin would be demoted or removed. */
export const LAST_ADMIN = 'an organisation needs at least one admin'

/**
 * Registers the organisation routes behind the caller hook (added to `app`,
 * so pass an encapsulated scope). Membership changes call
 * `accessChanges.documentAccessChanged('*', userId)`: an organisation role
 * decides the user's role on every document of the organisation.
 */
export const registerOrganisationRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))

  /** Whether the caller may act in `orgId` with at least `needed`. */
  const checkAccess = async (
    orgId: string,
    userId: string,
    needed: OrganisationRole,
  ): Promise<OrganisationAccess> => {
    // Ids come from the same generator as document ids, so the same rule bounds them.
    if (!isDocumentId(orgId)) return { ok: false, status: 400, error: 'malformed organisation id' }
    const role = await deps.accounts.roleIn(orgId, userId)
    if (role === null) return { ok: false, status: 404, error: NOT_FOUND }
    if (needed === 'admin' && role !== 'admin') {
      return { ok: false, status: 403, error: 'only an admin of the organisation may do this' }
    }
    return { ok: true, role }
  }

  /** Whether taking admin away from `userId` would leave `orgId` without one. */
  const isLastAdmin = async (orgId: string, userId: string): Promise<boolean> => {
    const admins = (await deps.accounts.membersOf(orgId)).filter((m) => m.role === 'admin')
    return admins.length === 1 && admins[0]?.id === userId
  }

  app.get('/api/orgs', async (request) => {
    const memberships = await deps.accounts.membershipsOf(callerOf(request).user.id)
    return { organisations: memberships.map(({ id, name, role }) => ({ id, name, role })) }
  })

  app.post('/api/orgs', async (request, reply) => {
    const body = decodeOrReply(CREATE_BODY, request.body, reply)
    if (body === null) return reply
    const organisation = await deps.accounts.createOrganisation(body.name, callerOf(request).userId)
    return reply.code(201).send(organisation)
  })

  app.get<{ Params: OrgParams }>('/api/orgs/:orgId/members', async (request, reply) => {
    const { orgId } = request.params
    const access = await checkAccess(orgId, callerOf(request).userId, 'member')
    if (!access.ok) return sendError(reply, access.status, access.error)
    const members = await deps.accounts.membersOf(orgId)
    return { members: members.map(({ id, email, name, role }) => ({ id, email, name, role })) }
  })

  // Limit: the last-admin check and the change are two statements, so two
  // admins demoting each other at the same moment can both succeed.
  app.put<{ Params: OrgParams }>('/api/orgs/:orgId/members', async (request, reply) => {
    const { orgId } = request.params
    const access = await checkAccess(orgId, callerOf(request).userId, 'admin')
    if (!access.ok) return sendError(reply, access.status, access.error)
    const body = decodeOrReply(MEMBER_BODY, request.body, reply)
    if (body === null) return reply

    const target = await deps.accounts.findByEmail(body.email)
    if (target === null) return sendError(reply, 404, 'no user has this email')
    if (body.role === 'member' && (await isLastAdmin(orgId, target.id))) {
      return sendError(reply, 409, LAST_ADMIN)
    }

    const member = await deps.accounts.setMember(orgId, body.email, body.role)
    if (member === null) return sendError(reply, 404, 'no user has this email')
    deps.accessChanges.documentAccessChanged('*', member.id)
    return { id: member.id, email: member.email, name: member.name, role: body.role }
  })

  app.delete<{ Params: MemberParams }>(
    '/api/orgs/:orgId/members/:userId',
    async (request, reply) => {
      const { orgId, userId } = request.params
      const access = await checkAccess(orgId, callerOf(request).userId, 'admin')
      if (!access.ok) return sendError(reply, access.status, access.error)
      if (!isDocumentId(userId)) return sendError(reply, 400, 'malformed user id')
      if ((await deps.accounts.roleIn(orgId, userId)) === null) {
        return sendError(reply, 404, NOT_FOUND)
      }
      if (await isLastAdmin(orgId, userId)) return sendError(reply, 409, LAST_ADMIN)

      await deps.accounts.removeMember(orgId, userId)
      deps.accessChanges.documentAccessChanged('*', userId)
      request.log.info({ orgId, userId }, 'organisation member removed')
      return reply.code(204).send()
    },
  )
}
