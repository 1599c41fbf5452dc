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
 * import converter), one at a time, so a large one does not hold the node.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import * as Y from 'yjs'
import { z } from 'zod'
import {
  docToHtml,
  docToJson,
  docToMarkdown,
  docToText,
  isContentError,
  MAX_IMPORT_BYTES,
  toHtmlPage,
} from '../../content/index.js'
import type { DocumentTransfer } from '../../transfer/index.js'
import type { ApiDependencies } from '../api-dependencies.js'
import {
  callerOf,
  createCallerHook,
  decodeOrReply,
  NOT_FOUND,
  sendError,
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
  seq: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
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
  readonly render: (doc: Y.Doc, title: string) => string
}

const FORMATS: Readonly<Record<ExportFormat, FormatSpec>> = {
  html: {
    contentType: 'text/html; charset=utf-8',
    extension: 'html',
    render: (doc, title) => toHtmlPage(title, docToHtml(doc)),
  },
  markdown: { contentType: 'text/markdown; charset=utf-8', extension: 'md', render: docToMarkdown },
  text: { contentType: 'text/plain; charset=utf-8', extension: 'txt', render: docToText },
  json: {
    contentType: 'application/json; charset=utf-8',
    extension: 'json',
    render: (doc) => JSON.stringify(docToJson(doc)),
  },
}

export const registerTransferRoutes = async (
  app: FastifyInstance,
  deps: ApiDependencies,
  transfer: DocumentTransfer,
): Promise<void> => {
  app.addHook('onRequest', createCallerHook(deps.auth))
  const lookUp = createDocumentLookup(deps)

  app.get<{ Params: { id: string } }>('/api/documents/:id/export', async (request, reply) => {
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
    const stored = await transfer.stateAt(docId, version)
    if (stored === null) return sendMissingVersion(reply, transfer, docId, version)

    const spec = FORMATS[query.format]
    const body = renderState(stored.state, (doc) => spec.render(doc, found.document.title))
    return reply
      .header('etag', etag)
      .header('content-disposition', attachmentDisposition(found.document.title, spec.extension))
      .type(spec.contentType)
      .send(body)
  })

  app.post(
    '/api/documents/import',
    { bodyLimit: IMPORT_BODY_LIMIT_BYTES },
    async (request, reply) => importDocument(request, reply, deps, transfer),
  )
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

const renderState = (state: Uint8Array, render: (doc: Y.Doc) => string): string => {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, state)
    return render(doc)
  } finally {
    doc.destroy()
  }
}

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
    if (isContentError(err, 'CONTENT_TOO_COMPLEX')) {
      return sendError(reply, 422, `the ${body.format} took too long to convert`)
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
