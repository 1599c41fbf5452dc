/**
 * The worker thread of `createImportConverter` and `createContentRenderer`:
 * parses imported files and renders documents off the node's event loop.
 * Loaded only as a worker (see `worker-pool.ts`), never imported.
 */
import * as Y from 'yjs'
import { isContentError } from './content-error.js'
import { docToHtml, docToJson, docToMarkdown, docToText } from './document-export.js'
import { firstHeadingText, htmlToNode, markdownToNode, nodeToUpdate } from './document-import.js'
import { serveWorkerTasks, type TaskOutcome } from './worker-pool.js'

/** A format a document renders to in the worker (HTML: the fragment, no page). @internal */
export type RenderFormat = 'html' | 'markdown' | 'text' | 'json'

/** One task of the content worker. @internal */
export type ContentTask =
  | {
      readonly kind: 'import'
      readonly format: 'html' | 'markdown'
      readonly content: string
      readonly maxBytes: number
      readonly maxNodes: number
    }
  /** `parts`: updates applied in order (a checkpoint and the log after it, or one state). */
  | {
      readonly kind: 'render'
      readonly format: RenderFormat
      readonly parts: readonly Uint8Array[]
    }
  | { readonly kind: 'merge'; readonly parts: readonly Uint8Array[]; readonly gc: boolean }

/** The result of an import task. @internal */
export interface ImportResult {
  readonly update: Uint8Array
  readonly heading: string | null
}

const RENDERERS: Readonly<Record<RenderFormat, (doc: Y.Doc) => string>> = {
  html: docToHtml,
  markdown: docToMarkdown,
  text: docToText,
  json: (doc) => JSON.stringify(docToJson(doc)),
}

const convert = (task: Extract<ContentTask, { kind: 'import' }>): TaskOutcome<ImportResult> => {
  const { format, content, maxBytes, maxNodes } = task
  try {
    const node =
      format === 'html' ? htmlToNode(content, { maxBytes }) : markdownToNode(content, { maxBytes })
    // Applying, storing, loading and exporting cost time on the node's
    // thread in proportion to the nodes and marks: bounded here, before any
    // of it happens.
    let count = 0
    node.descendants((child) => {
      count += 1 + child.marks.length
      return count <= maxNodes
    })
    if (count > maxNodes) {
      const message = `the content has over ${maxNodes} nodes and marks`
      return { ok: false, failure: { code: 'CONTENT_TOO_COMPLEX', message } }
    }
    const update = nodeToUpdate(node)
    const result = { update, heading: firstHeadingText(node) }
    return { ok: true, result, transfer: [update.buffer as ArrayBuffer] }
  } catch (err) {
    if (isContentError(err)) return { ok: false, failure: { code: err.code, message: err.message } }
    throw err
  }
}

const render = (task: Extract<ContentTask, { kind: 'render' }>): TaskOutcome<string> => {
  const doc = new Y.Doc()
  try {
    doc.transact(() => {
      for (const part of task.parts) Y.applyUpdate(doc, part)
    })
    return { ok: true, result: RENDERERS[task.format](doc) }
  } catch (err) {
    // A document nested too deeply to render (CONTENT_TOO_DEEP) is the
    // document's fault, not the worker's: the caller answers 422.
    if (isContentError(err)) return { ok: false, failure: { code: err.code, message: err.message } }
    throw err
  } finally {
    doc.destroy()
  }
}

/** The result of a merge task. @internal */
export interface MergeResult {
  readonly state: Uint8Array
  readonly stateVector: Uint8Array
}

// As the store's `mergeStateParts`.
const merge = (task: Extract<ContentTask, { kind: 'merge' }>): TaskOutcome<MergeResult> => {
  const doc = new Y.Doc({ gc: task.gc })
  try {
    doc.transact(() => {
      for (const part of task.parts) Y.applyUpdate(doc, part)
    })
    const state = Y.encodeStateAsUpdate(doc)
    const stateVector = Y.encodeStateVector(doc)
    const transfer = [state.buffer as ArrayBuffer, stateVector.buffer as ArrayBuffer]
    return { ok: true, result: { state, stateVector }, transfer }
  } finally {
    doc.destroy()
  }
}

serveWorkerTasks<ContentTask, ImportResult | string | MergeResult>((task) => {
  switch (task.kind) {
    case 'import':
      return convert(task)
    case 'render':
      return render(task)
    case 'merge':
      return merge(task)
    default:
      return task satisfies never
  }
})
