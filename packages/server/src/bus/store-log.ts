/**
 * The document log of a single node without Redis: state comes from the
 * store, appends go straight to the store's group commit, and there are no
 * other nodes to hear from.
 */
import type { DocumentLog, OpenedDocument } from '../room/index.js'
import type { DocumentStore } from '../store/index.js'

/** A `DocumentLog` over a `DocumentStore` alone (embedded mode). */
export const createStoreLog = (store: DocumentStore): DocumentLog => ({
  open: async (docId): Promise<OpenedDocument> => {
    const stored = await store.loadDocument(docId)
    const updates =
      stored.checkpoint === null ? stored.updates : [stored.checkpoint, ...stored.updates]
    return { updates, close: () => undefined }
  },
  append: (record) => store.appendUpdate(record),
  publishAwareness: () => undefined,
})
