import { useEffect, useState, useSyncExternalStore } from 'react'
import { refreshSession } from '../api/client.js'
import { getDocument } from '../api/endpoints.js'
import { DocumentSync, type SyncSnapshot } from './document-sync.js'

/**
 * Opens a document for as long as the calling component is mounted (null
 * until the first effect ran). Each mount gets its own `DocumentSync`,
 * destroyed on unmount, so React's double mount in development is safe.
 */
export const useDocumentSync = (docId: string): DocumentSync | null => {
  const [sync, setSync] = useState<DocumentSync | null>(null)
  useEffect(() => {
    const opened = new DocumentSync({
      docId,
      refreshSession,
      checkAccess: async () => {
        const result = await getDocument(docId)
        if (result.ok) return 'ok'
        if (result.status === 404) return 'gone'
        if (result.status === 401) return 'signed-out'
        return 'unknown'
      },
    })
    setSync(opened)
    return () => {
      opened.destroy()
      setSync(null)
    }
  }, [docId])
  return sync
}

/** The live state of an open document. */
export const useSyncSnapshot = (sync: DocumentSync): SyncSnapshot =>
  useSyncExternalStore(sync.subscribe, sync.getSnapshot)
