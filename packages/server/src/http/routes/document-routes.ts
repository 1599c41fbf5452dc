/**
 * /api/documents: document metadata and sharing. A document the caller may
 * not see answers exactly like one that does not exist (404, same body), so
 * ids cannot be probed; a malformed id is refused before any lookup (400).
 * Seeing is any role; renaming needs owner or editor; deleting and sharing,
 * owner.
 */
import { isDocumentId } from '@quire/protocol'
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { canEdit, type DocumentInfo } from '../../auth/index.js'
import type { ApiDependencies } from '../api-dependencies.js'
import {
  callerOf,
  createCallerHook,
  decodeOrReply,
  NOT_FOUND,
  sendError,
  text,
} from '../route-support.js'

/** Longest title, characters. */
const MAX_TITLE_LENGTH = 200

const title = text().trim().min(1).max(MAX_TITLE_LENGTH)
const CREATE_BODY = z.object({ orgId: text().max(64), title })
const RENAME_BODY = z.object({ title })
const LIST_QUERY = z.object({
  orgId: text().max(64).optional(),
  q: z.string().max(MAX_TITLE_LENGTH).optional(),
})
const SHARE_BODY = z.object({
  email: text().max(320),
  role: z.enum(['owner', 'editor', 'commenter', 'viewer']),
})

interface DocumentParams {
  readonly id: string
}

interface MemberParams extends DocumentParams {
  readonly userId: string
}

/** What an operation needs of the caller's role. */
export type Needed = 'see' | 'edit' | 'own'

/** A document the caller may act on, or the error to answer with. */
export type DocumentLookup =
  | { readonly ok: true; readonly document: DocumentInfo }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly error: string }

/** The answer when the caller's role on a visible document is not enough. */
export const ROLE_TOO_LOW = 'your role on this document does not allow this'

/**
 * Finds a document for a caller who needs `needed` of it: 400 for a
 * malformed id, the same 404 for a missing document as for one the caller
 * may not see, 403 when their role is too low.
 */
export const createDocumentLookup =
  (deps: ApiDependencies) =>
  async (id: string, userId: string, needed: Needed): Promise<DocumentLookup> => {
    if (!isDocumentId(id)) return { ok: false, status: 400, error: 'malformed document id' }
    const document = await deps.documents.get(id, userId)
    if (document === null) return { ok: false, status: 404, error: NOT_FOUND }
    const isAllowed =
      needed === 'see' ||
      (needed === 'edit' && canEdit(document.role)) ||
      (needed === 'own' && document.role === 'owner')
    if (!isAllowed) return { ok: false, status: 403, error: ROLE_TOO_LOW }
    return { ok: true, document }
  }

/**
 * Registers the document routes behind the caller hook (added to `app`, so
 * pass an encapsulated scope). Deleting a document and changing who may use
 * it call `accessChanges.documentAccessChanged` after the change is stored.
 */
export const registerDocumentRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))

  const lookUp = createDocumentLookup(deps)

  app.post('/api/documents', async (request, reply) => {
    const { userId } = callerOf(request)
    const body = decodeOrReply(CREATE_BODY, request.body, reply)
    if (body === null) return reply
    // An organisation the caller is not in does not exist for them.
    if ((await deps.accounts.roleIn(body.orgId, userId)) === null) {
      return sendError(reply, 404, NOT_FOUND)
    }
    const document = await deps.documents.create(body.orgId, userId, body.title)
    request.log.info({ docId: document.id, userId }, 'document created')
    return reply.code(201).send(document)
  })

  // Limit: the title filter runs in process over every document the caller
  // may see, so a search costs as much as listing everything; filtering in
  // DocumentAccess.list's query would lift that.
  app.get('/api/documents', async (request, reply) => {
    const query = decodeOrReply(LIST_QUERY, request.query, reply)
    if (query === null) return reply
    const orgId = query.orgId === undefined || query.orgId === '' ? null : query.orgId
    const documents = await deps.documents.list(callerOf(request).userId, orgId)
    const needle = query.q?.trim().toLowerCase() ?? ''
    return {
      documents:
        needle === ''
          ? documents
          : documents.filter((document) => document.title.toLowerCase().includes(needle)),
    }
  })

  app.get<{ Params: DocumentParams }>('/api/documents/:id', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'see')
    if (!found.ok) return sendError(reply, found.status, found.error)
    return found.document
  })

  app.patch<{ Params: DocumentParams }>('/api/documents/:id', async (request, reply) => {
    const { userId } = callerOf(request)
    const found = await lookUp(request.params.id, userId, 'edit')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const body = decodeOrReply(RENAME_BODY, request.body, reply)
    if (body === null) return reply
    await deps.documents.rename(found.document.id, body.title)
    const renamed = await deps.documents.get(found.document.id, userId)
    // Deleted between the two statements: answer as for any missing document.
    return renamed === null ? sendError(reply, 404, NOT_FOUND) : renamed
  })

  app.delete<{ Params: DocumentParams }>('/api/documents/:id', async (request, reply) => {
    const { userId } = callerOf(request)
    const found = await lookUp(request.params.id, userId, 'own')
    if (!found.ok) return sendError(reply, found.status, found.error)
    await deps.documents.softDelete(found.document.id)
    deps.accessChanges.documentAccessChanged(found.document.id, null)
    request.log.info({ docId: found.document.id, userId }, 'document deleted')
    return reply.code(204).send()
  })

  app.get<{ Params: DocumentParams }>('/api/documents/:id/members', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'own')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const members = await deps.documents.members(found.document.id)
    return { members: members.map(({ id, email, name, role }) => ({ id, email, name, role })) }
  })

  app.put<{ Params: DocumentParams }>('/api/documents/:id/members', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'own')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const body = decodeOrReply(SHARE_BODY, request.body, reply)
    if (body === null) return reply

    const docId = found.document.id
    const memberId = await deps.documents.share(docId, body.email, body.role)
    if (memberId === null) {
      return sendError(reply, 404, 'no member of the organisation has this email')
    }
    deps.accessChanges.documentAccessChanged(docId, memberId)
    const member = (await deps.documents.members(docId)).find(({ id }) => id === memberId)
    return member === undefined
      ? { id: memberId, role: body.role }
      : { id: member.id, email: member.email, name: member.name, role: member.role }
  })

  app.delete<{ Params: MemberParams }>(
    '/api/documents/:id/members/:userId',
    async (request, reply) => {
      const found = await lookUp(request.params.id, callerOf(request).userId, 'own')
      if (!found.ok) return sendError(reply, found.status, found.error)
      const { userId } = request.params
      if (!isDocumentId(userId)) return sendError(reply, 400, 'malformed user id')
      await deps.documents.unshare(found.document.id, userId)
      deps.accessChanges.documentAccessChanged(found.document.id, userId)
      return reply.code(204).send()
    },
  )
}
