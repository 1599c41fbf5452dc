/**
 * Export and import of whole documents.
 *
 * GET /api/documents/:id/export?format=html|markdown|text|json[&seq=N]:
 * anyone who may see the document. The current state (or the state right
 * after update N) as a file download; its ETag is the version (the seq of
 * the last update it includes), and `If-None-Match` with it answers 304.
 *
 * POST /api/documents/import `{orgId, title?, format, content}`: creates a
 * document exactly as POST /api/documents does (organisation members only,
 * the caller becomes its owner) and stores the converted, sanitised content
 * as its first update. Files are parsed in a worker thread (`content/`'s
 * import converter), one at a time, so a large one does not hold the node;
 * exports are rendered in another (`content/`'s renderer) and kept a minute.
 * Both count as heavy requests (`heavy-request-limiter.ts`): 429 or 503
 * with Retry-After past a user's or the node's budget.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import {
  isContentError,
  isWorkerPoolError,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_NODES,
  toHtmlPage,
} from '../../content/index.js'
import type { DocumentTransfer } from '../../transfer/index.js'
import type { ApiDependencies } from '../api-dependencies.js'
import { type HeavyRequestLimiter, runHeavyRequest } from '../heavy-request-limiter.js'
import {
  callerOf,
  createCallerHook,
  decodeOrReply,
  NOT_FOUND,
  sendError,
  seqParam,
  text,
} from '../route-support.js'
import { createDocumentLookup } from './document-routes.js'
import { attachmentDisposition, etagMatches, titleFromContent } from './transfer-support.js'

/** Title of an imported document with no title given and no heading. */
export const DEFAULT_IMPORT_TITLE = 'Imported document'

/**
 * Largest import request body, bytes: the content limit plus room for JSON
 * escaping (quotes and newlines double), so the content's own limit is what
 * decides, with its clearer answer.
 */
const IMPORT_BODY_LIMIT_BYTES = 2 * MAX_IMPORT_BYTES + 64 * 1024

/** The content limit as people read it, for the 413 answer. */
const IMPORT_LIMIT = `${MAX_IMPORT_BYTES / (1024 * 1024)} MiB`

const EXPORT_QUERY = z.object({
  format: z.enum(['html', 'markdown', 'text', 'json']).default('html'),
  seq: seqParam().optional(),
})

const IMPORT_BODY = z.object({
  orgId: text().max(64),
  title: text().trim().min(1).max(200).optional(),
  format: z.enum(['html', 'markdown']),
  content: z.string(),
})

/** A format an export can be in. */
type ExportFormat = z.infer<typeof EXPORT_QUERY>['format']

interface FormatSpec {
  readonly contentType: string
  readonly extension: string
  /** Wraps the worker's rendering (HTML: a fragment) into the file. */
  readonly wrap: (rendered: string, title: string) => string
}

const asIs = (rendered: string): string => rendered

const FORMATS: Readonly<Record<ExportFormat, FormatSpec>> = {
  html: {
    contentType: 'text/html; charset=utf-8',
    extension: 'html',
    wrap: (rendered, title) => toHtmlPage(title, rendered),
  },
  markdown: { contentType: 'text/markdown; charset=utf-8', extension: 'md', wrap: asIs },
  text: { contentType: 'text/plain; charset=utf-8', extension: 'txt', wrap: asIs },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json', wrap: asIs },
}

export const registerTransferRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
  transfer: DocumentTransfer,
  limiter?: HeavyRequestLimiter,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))
  const lookUp = createDocumentLookup(deps)

  app.get<{ Params: { id: string } }>('/api/documents/:id/export', async (request, reply) => {
    const { userId } = callerOf(request)
    return runHeavyRequest(limiter, userId, 'export', reply, () => exportDocument(request, reply))
  })

  const exportDocument = async (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
  ): Promise<FastifyReply> => {
    const found = await lookUp(request.params.id, callerOf(request).userId, 'see')
    if (!found.ok) return sendError(reply, found.status, found.error)
    const query = decodeOrReply(EXPORT_QUERY, request.query, reply)
    if (query === null) return reply
    const docId = found.document.id

    const version = await exportVersion(transfer, docId, query.seq)
    if (version === null) return sendMissingVersion(reply, transfer, docId, query.seq ?? 0)
    const etag = `"${version}"`
    if (etagMatches(request.headers['if-none-match'], etag)) {
      return reply.code(304).header('etag', etag).send()
    }
    let rendered: string | null
    try {
      rendered = await transfer.render(docId, version, query.format)
    } catch (err) {
      return sendRenderFailure(reply, err, query.format)
    }
    if (rendered === null) return sendMissingVersion(reply, transfer, docId, version)

    const spec = FORMATS[query.format]
    return reply
      .header('etag', etag)
      .header('content-disposition', attachmentDisposition(found.document.title, spec.extension))
      .type(spec.contentType)
      .send(spec.wrap(rendered, found.document.title))
  }

  app.post(
    '/api/documents/import',
    { bodyLimit: IMPORT_BODY_LIMIT_BYTES },
    async (request, reply) =>
      runHeavyRequest(limiter, callerOf(request).userId, 'import', reply, () =>
        importDocument(request, reply, deps, transfer),
      ),
  )
}

/** How long a client is asked to wait when the workers are busy, seconds. */
const BUSY_RETRY_AFTER_S = 5

/**
 * 503 when the render worker's queue is full, 422 when the rendering took
 * too long or the document nests too deeply for any renderer.
 */
const sendRenderFailure = (reply: FastifyReply, err: unknown, format: string): FastifyReply => {
  if (isContentError(err, 'CONTENT_TOO_DEEP')) {
    return sendError(reply, 422, 'document too deeply nested to export')
  }
  if (isWorkerPoolError(err, 'WORKER_BUSY')) {
    reply.header('retry-after', String(BUSY_RETRY_AFTER_S))
    return sendError(reply, 503, 'the server is busy rendering other exports; try again shortly')
  }
  if (isWorkerPoolError(err, 'WORKER_TIMEOUT')) {
    return sendError(reply, 422, `the document is too large to export as ${format} in time`)
  }
  throw err
}

/** The version an export shows: `seq` when it exists, else the current one; null when neither does. */
const exportVersion = async (
  transfer: DocumentTransfer,
  docId: string,
  seq: number | undefined,
): Promise<number | null> => {
  if (seq === undefined) return transfer.currentVersion(docId)
  const stored = await transfer.storedVersion(docId)
  return stored !== null && seq <= stored ? seq : null
}

/** 410 for a version history retention removed, 404 for one that never existed. */
const sendMissingVersion = async (
  reply: FastifyReply,
  transfer: DocumentTransfer,
  docId: string,
  seq: number,
): Promise<FastifyReply> =>
  (await transfer.isPruned(docId, seq))
    ? sendError(reply, 410, 'version removed by the history retention policy')
    : sendError(reply, 404, 'no such version')

const importDocument = async (
  request: FastifyRequest,
  reply: FastifyReply,
  deps: ApiDependencies,
  transfer: DocumentTransfer,
): Promise<FastifyReply> => {
  const { userId } = callerOf(request)
  const body = decodeOrReply(IMPORT_BODY, request.body, reply)
  if (body === null) return reply
  // An organisation the caller is not in does not exist for them; checked
  // before any parsing, which is the expensive part.
  if ((await deps.accounts.roleIn(body.orgId, userId)) === null) {
    return sendError(reply, 404, NOT_FOUND)
  }

  let converted
  try {
    converted = await transfer.convertImport(body.format, body.content)
  } catch (err) {
    if (isContentError(err, 'CONTENT_TOO_LARGE')) {
      return sendError(reply, 413, `content is over the import limit (${IMPORT_LIMIT})`)
    }
    if (isContentError(err, 'CONTENT_TOO_DEEP')) {
      return sendError(reply, 422, `the ${body.format} is too deeply nested to import`)
    }
    if (isContentError(err, 'CONTENT_TOO_COMPLEX')) {
      return sendError(
        reply,
        422,
        `the ${body.format} is too complex to import (over ${MAX_IMPORT_NODES} nodes and marks, or too long to convert)`,
      )
    }
    if (isWorkerPoolError(err, 'WORKER_BUSY')) {
      reply.header('retry-after', String(BUSY_RETRY_AFTER_S))
      return sendError(reply, 503, 'the server is busy with other imports; try again shortly')
    }
    if (isContentError(err)) return sendError(reply, 400, `the ${body.format} could not be read`)
    throw err
  }
  const { update } = converted
  const title = body.title ?? titleFromContent(converted.heading) ?? DEFAULT_IMPORT_TITLE

  const document = await deps.documents.create(body.orgId, userId, title)
  const outcome = await transfer.applyImport(document.id, update, userId).catch(async (err) => {
    // An empty document would stay behind; the import failed as a whole.
    await deps.documents.softDelete(document.id).catch((deleteErr: unknown) => {
      request.log.warn({ err: deleteErr, docId: document.id }, 'failed import not removed')
    })
    throw err
  })
  if (outcome.reason === 'too-large') {
    await deps.documents.softDelete(document.id)
    return sendError(reply, 413, `the document would be over ${outcome.maxBytes} bytes`)
  }
  request.log.info(
    { docId: document.id, userId, format: body.format, bytes: update.byteLength },
    'document imported',
  )
  return reply.code(201).send(document)
}
