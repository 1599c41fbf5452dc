/**
 * A document: its title, the people in it, connection and save state, the
 * toolbar and the editor. Works offline for documents opened before on this
 * device (metadata from localStorage, content from IndexedDB).
 */
import { type ReactElement, useCallback, useEffect, useState } from 'react'
import { getDocument } from '../api/endpoints.js'
import type { DocumentInfo, Me } from '../api/types.js'
import { Link } from '../components/Link.js'
import { navigate, signInPath } from '../router.js'
import { meOf, useSession } from '../session.js'
import {
  cachedDocumentKey,
  deleteDocumentCache,
  loadCachedJson,
  storeCachedJson,
} from '../sync/offline-cache.js'
import { useDocumentSync } from '../sync/use-document-sync.js'
import { DocumentEditor } from '../editor/DocumentEditor.js'
import { MessagePage } from './MessagePage.js'

type InfoState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly info: DocumentInfo }
  | { readonly status: 'gone' }
  | { readonly status: 'unavailable'; readonly message: string }

export const GONE_MESSAGE = 'This document was deleted or you no longer have access.'

export const EditorPage = ({ docId }: { docId: string }): ReactElement => {
  const { session } = useSession()
  const me = meOf(session)
  const [state, setState] = useState<InfoState>({ status: 'loading' })

  useEffect(() => {
    let isCurrent = true
    void getDocument(docId).then((result) => {
      if (!isCurrent) return
      if (result.ok) {
        storeCachedJson(cachedDocumentKey(docId), result.data)
        setState({ status: 'ready', info: result.data })
      } else if (result.status === 404) {
        void deleteDocumentCache(docId)
        setState({ status: 'gone' })
      } else if (result.status === 0 || result.status >= 500) {
        const cached = loadCachedJson(cachedDocumentKey(docId)) as DocumentInfo | null
        setState(
          cached?.id === docId
            ? { status: 'ready', info: cached }
            : {
                status: 'unavailable',
                message:
                  'This document has not been opened on this device yet, and the server cannot be reached. Try again when you are online.',
              },
        )
      } else if (result.status !== 401) {
        setState({ status: 'unavailable', message: result.error })
      }
    })
    return () => {
      isCurrent = false
    }
  }, [docId])

  if (state.status === 'gone')
    return <MessagePage title="Document unavailable" message={GONE_MESSAGE} />
  if (state.status === 'unavailable')
    return <MessagePage title="Document unavailable" message={state.message} />
  if (me === null && session.status === 'offline') {
    return (
      <MessagePage
        title="You are offline"
        message="Quire cannot reach the server to check who you are. Try again when you are online."
      />
    )
  }
  if (state.status === 'loading' || me === null) return <LoadingPage />
  return <OpenDocument info={state.info} me={me} />
}

const OpenDocument = ({ info, me }: { info: DocumentInfo; me: Me }): ReactElement => {
  const sync = useDocumentSync(info.id)
  const [isGone, setIsGone] = useState(false)
  const handleGone = useCallback(() => {
    void deleteDocumentCache(info.id)
    setIsGone(true)
  }, [info.id])
  const handleSignedOut = useCallback(() => navigate(signInPath(), { replace: true }), [])
  if (isGone) return <MessagePage title="Document unavailable" message={GONE_MESSAGE} />
  if (sync === null) return <LoadingPage />
  return (
    <DocumentEditor
      key={info.id}
      sync={sync}
      info={info}
      me={me}
      onGone={handleGone}
      onSignedOut={handleSignedOut}
    />
  )
}

const LoadingPage = (): ReactElement => (
  <main className="message-page" aria-busy="true">
    <p className="muted">Opening…</p>
    <p>
      <Link to="/">Back to your documents</Link>
    </p>
  </main>
)
