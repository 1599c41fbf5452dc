/**
 * Content conversions: a document's rich text to and from the formats people
 * use outside Quire (HTML, Markdown, plain text, the editor's JSON), through
 * the one schema the web editor also uses (`@quire/schema/editor`).
 */
export { ContentError, type ContentErrorCode, isContentError } from './content-error.js'
export { changesSchema, documentSchema } from './content-schema.js'
export { MAX_DOCUMENT_DEPTH, toDocumentNode } from './document-node.js'
export {
  checkFragmentDepth,
  docToHtml,
  docToJson,
  docToMarkdown,
  docToNode,
  docToText,
  nodeToHtml,
  nodeToMarkdown,
  toHtmlPage,
} from './document-export.js'
export {
  firstHeadingText,
  htmlToNode,
  htmlToUpdate,
  type ImportOptions,
  MAX_IMPORT_BYTES,
  markdownToNode,
  markdownToUpdate,
  nodeToUpdate,
} from './document-import.js'
export {
  type ConvertedImport,
  createImportConverter,
  DEFAULT_IMPORT_CONVERTER_OPTIONS,
  type ImportConverter,
  type ImportConverterOptions,
  MAX_IMPORT_NODES,
} from './import-converter.js'
export {
  type ContentRenderer,
  type ContentRendererOptions,
  createContentRenderer,
  DEFAULT_CONTENT_RENDERER_OPTIONS,
  type MergeResult,
  type RenderFormat,
} from './content-renderer.js'
export {
  createWorkerPool,
  isWorkerPoolError,
  serveWorkerTasks,
  siblingEntry,
  type TaskOutcome,
  type WorkerPool,
  WorkerPoolError,
  type WorkerPoolErrorCode,
  type WorkerPoolOptions,
} from './worker-pool.js'
