/** Document history: versions, states at any update, restores. */
export { createDocumentHistory, type DocumentHistory } from './document-history.js'
