/**
 * /api/documents/:id/versions: a document's history. Anyone who may see
 * the document may list its versions and read any of them; saving a named
 * version and restoring one need owner or editor. A version is read as one
 * Yjs update (application/octet-stream) that a client applies to an empty
 * `Y.Doc` and shows read-only; its changes (who wrote each run of text,
 * and what was added and deleted since an earlier version) as ProseMirror
 * JSON with a `change` mark on every text node. The audit listing (who changed the document,
 * when, through which connection) is for owners.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import {
  type ChangesResult,
  type DocumentHistory,
  MAX_RESTORED_BLOCKS,
} from '../../history/index.js'
import { isContentError, isWorkerPoolError } from '../../content/index.js'
import type { ApiDependencies } from '../api-dependencies.js'
import { type HeavyRequestLimiter, runHeavyRequest } from '../heavy-request-limiter.js'
import {
  callerOf,
  createCallerHook,
  decodeOrReply,
  sendError,
  seqParam,
  text,
} from '../route-support.js'
import { createDocumentLookup } from './document-routes.js'

const SAVE_BODY = z.object({ name: text().trim().min(1).max(200) })
const SEQ = seqParam()

/**
 * Answers for a version that cannot be rebuilt: 410 when history retention
 * removed the updates it needs (it existed, and never will again), 404 when
 * it never existed.
 */
const sendMissingVersion = async (
  reply: FastifyReply,
  history: DocumentHistory,
  docId: string,
  seq: number,
): Promise<FastifyReply> =>
  seq <= (await history.prunedThrough(docId))
    ? sendError(reply, 410, 'version removed by the history retention policy')
    : sendError(reply, 404, 'no such version')

const isChangesResult = (value: unknown): value is ChangesResult =>
  typeof value === 'object' && value !== null && 'reason' in value

interface VersionParams {
  readonly id: string
  readonly seq: string
}

export const registerHistoryRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
  history: DocumentHistory,
  limiter?: HeavyRequestLimiter,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))
  const lookUp = createDocumentLookup(deps)

  app.get<{ Params: { id: string } }>('/api/documents/:id/versions', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'see')
    if (!found.ok) return sendError(reply, found.status, found.error)
    return history.list(found.document.id)
  })

  app.get<{ Params: VersionParams }>('/api/documents/:id/versions/:seq', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'see')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const seq = SEQ.safeParse(request.params.seq)
    if (!seq.success) return sendError(reply, 400, 'malformed version')
    let state
    try {
      state = await history.stateAt(found.document.id, seq.data)
    } catch (err) {
      if (!isWorkerPoolError(err, 'WORKER_BUSY')) throw err
      reply.header('retry-after', '2')
      return sendError(reply, 503, 'the server is busy; try again shortly')
    }
    if (state === null) return sendMissingVersion(reply, history, found.document.id, seq.data)
    return reply.type('application/octet-stream').send(Buffer.from(state))
  })

  app.get<{ Params: VersionParams; Querystring: { since?: string } }>(
    '/api/documents/:id/versions/:seq/changes',
    async (request, reply) => {
      const found = await lookUp(request.params.id, callerOf(request).userId, 'see')
      if (!found.ok) return sendError(reply, found.status, found.error)
      const seq = SEQ.safeParse(request.params.seq)
      const since = SEQ.optional().safeParse(request.query.since)
      if (!seq.success || !since.success) return sendError(reply, 400, 'malformed version')
      if (since.data !== undefined && since.data >= seq.data) {
        return sendError(reply, 400, 'since must be an earlier version')
      }
      let result
      try {
        result = await runHeavyRequest(limiter, callerOf(request).userId, 'changes', reply, () =>
          history.changes(found.document.id, seq.data, since.data ?? null),
        )
      } catch (err) {
        if (isWorkerPoolError(err, 'WORKER_BUSY')) {
          reply.header('retry-after', '5')
          return sendError(reply, 503, 'the server is busy comparing other versions; try again')
        }
        if (isWorkerPoolError(err, 'WORKER_TIMEOUT')) {
          return sendError(reply, 422, 'these versions take too long to compare')
        }
        if (!isContentError(err, 'CONTENT_TOO_DEEP')) throw err
        return sendError(reply, 422, 'document too deeply nested to compare')
      }
      if (result === reply) return reply
      if (!isChangesResult(result)) return result
      if (result.reason === 'unknown-version') {
        // The replay needs the log from the earlier version on.
        return sendMissingVersion(reply, history, found.document.id, since.data ?? seq.data)
      }
      if (result.reason === 'too-long') {
        return sendError(
          reply,
          422,
          `too many updates to compare at once (at most ${result.maxUpdates})`,
        )
      }
      return reply.type('application/json; charset=utf-8').send(result.json)
    },
  )

  app.get<{ Params: { id: string } }>('/api/documents/:id/audit', async (request, reply) => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'own')
    if (!found.ok) return sendError(reply, found.status, found.error)
    return { entries: await history.audit(found.document.id) }
  })

  app.post<{ Params: { id: string } }>('/api/documents/:id/versions', async (request, reply) => {
    const { userId } = callerOf(request)
    const found = await lookUp(request.params.id, userId, 'edit')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const body = decodeOrReply(SAVE_BODY, request.body, reply)
    if (body === null) return reply
    const seq = await runHeavyRequest(limiter, userId, 'save-version', reply, () =>
      history.saveVersion(found.document.id, body.name, userId),
    )
    if (seq === reply) return reply
    if (typeof seq !== 'number') return sendError(reply, 409, 'nothing stored yet to save')
    request.log.info({ docId: found.document.id, userId, seq }, 'version saved')
    return reply.code(201).send({ seq, name: body.name })
  })

  app.post<{ Params: VersionParams }>(
    '/api/documents/:id/versions/:seq/restore',
    async (request, reply) => {
      const { userId } = callerOf(request)
      const found = await lookUp(request.params.id, userId, 'edit')
      if (!found.ok) return sendError(reply, found.status, found.error)
      const seq = SEQ.safeParse(request.params.seq)
      if (!seq.success) return sendError(reply, 400, 'malformed version')
      let restored
      try {
        restored = await runHeavyRequest(limiter, userId, 'restore', reply, () =>
          history.restore(found.document.id, seq.data, userId),
        )
      } catch (err) {
        if (isContentError(err, 'CONTENT_TOO_COMPLEX')) {
          return sendError(
            reply,
            422,
            `the restore would replace over ${MAX_RESTORED_BLOCKS} blocks; export that version and import it instead`,
          )
        }
        if (!isContentError(err, 'CONTENT_TOO_DEEP')) throw err
        return sendError(reply, 422, 'document too deeply nested to restore')
      }
      if (restored === reply) return reply
      if (restored !== true) {
        return sendMissingVersion(reply, history, found.document.id, seq.data)
      }
      request.log.info({ docId: found.document.id, userId, seq: seq.data }, 'version restored')
      return reply.code(204).send()
    },
  )
}
