/**
 * The worker thread of `createImportConverter`: parses imported files off
 * the node's event loop. One request at a time; each answer carries the
 * request's id. Loaded only as a worker, never imported.
 */
import { parentPort } from 'node:worker_threads'
import { type ContentErrorCode, isContentError } from './content-error.js'
import { firstHeadingText, htmlToNode, markdownToNode, nodeToUpdate } from './document-import.js'

/** A file to convert. @internal */
export interface ConversionRequest {
  readonly id: number
  readonly format: 'html' | 'markdown'
  readonly content: string
  readonly maxBytes: number
}

/** The worker's answer to one request. @internal */
export type ConversionReply =
  | {
      readonly id: number
      readonly ok: true
      readonly update: Uint8Array
      readonly heading: string | null
    }
  | {
      readonly id: number
      readonly ok: false
      readonly code: ContentErrorCode
      readonly message: string
    }
  | { readonly id: number; readonly ok: false; readonly code: null; readonly message: string }

const convert = (request: ConversionRequest): ConversionReply => {
  const { id, format, content, maxBytes } = request
  try {
    const node =
      format === 'html' ? htmlToNode(content, { maxBytes }) : markdownToNode(content, { maxBytes })
    return { id, ok: true, update: nodeToUpdate(node), heading: firstHeadingText(node) }
  } catch (err) {
    if (isContentError(err)) return { id, ok: false, code: err.code, message: err.message }
    // A bug, not the file's fault; the message names no content.
    return { id, ok: false, code: null, message: err instanceof Error ? err.message : String(err) }
  }
}

parentPort?.on('message', (request: ConversionRequest) => {
  const reply = convert(request)
  parentPort?.postMessage(reply, reply.ok ? [reply.update.buffer as ArrayBuffer] : [])
})
