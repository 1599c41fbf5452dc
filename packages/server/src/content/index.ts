/**
 * Content conversions: a document's rich text to and from the formats people
 * use outside Quire (HTML, Markdown, plain text, the editor's JSON), through
 * the one schema the web editor also uses (`@quire/schema/editor`).
 */
export { ContentError, type ContentErrorCode, isContentError } from './content-error.js'
export { documentSchema } from './content-schema.js'
export {
  docToHtml,
  docToJson,
  docToMarkdown,
  docToNode,
  docToText,
  nodeToHtml,
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
} from './import-converter.js'
