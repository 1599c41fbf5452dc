/** The app shell: session, routing, and the redirect to sign-in when a session is lost. */
import { type ReactElement, useEffect } from 'react'
import { setSessionLostHandler } from './api/client.js'
import { MessagePage } from './pages/MessagePage.js'
import { AuthPage } from './pages/AuthPage.js'
import { DocumentsPage } from './pages/DocumentsPage.js'
import { EditorPage } from './pages/EditorPage.js'
import { navigate, parseRoute, signInPath, useLocationPath } from './router.js'
import { SessionProvider, useSession } from './session.js'

export const App = (): ReactElement => (
  <SessionProvider>
    <Routes />
  </SessionProvider>
)

const Routes = (): ReactElement => {
  const path = useLocationPath()
  const { session, markSignedOut } = useSession()
  const route = parseRoute(location.pathname, location.search)

  useEffect(() => {
    setSessionLostHandler(() => {
      markSignedOut()
      const { page } = parseRoute(location.pathname, location.search)
      if (page !== 'signin' && page !== 'signup') navigate(signInPath(), { replace: true })
    })
  }, [markSignedOut])

  // Pages that need a person send everyone else to sign in, then back here.
  const needsSession = route.page === 'documents' || route.page === 'editor'
  useEffect(() => {
    if (needsSession && session.status === 'signed-out') navigate(signInPath(), { replace: true })
  }, [needsSession, session.status, path])

  useEffect(() => {
    document.title = titleOf(route.page)
  }, [route.page])

  if (session.status === 'no-accounts') {
    return (
      <MessagePage title="This server has no accounts" message={NO_ACCOUNTS_MESSAGE}>
        <p className="muted">
          Documents on it are reached by their sync address only, by programs such as the benchmarks
          and protocol tests.
        </p>
      </MessagePage>
    )
  }
  switch (route.page) {
    case 'signin':
    case 'signup':
      return <AuthPage key={route.page} mode={route.page} next={route.next} />
    case 'documents':
      return <DocumentsPage />
    case 'editor':
      return <EditorPage key={route.docId} docId={route.docId} />
    case 'not-found':
      return <MessagePage title="Page not found" message="There is nothing at this address." />
    default:
      return route satisfies never
  }
}

/** What a person sees when the node runs without accounts. */
export const NO_ACCOUNTS_MESSAGE =
  'This server runs without accounts (--auth none); the web app needs accounts: start it with --auth required.'

const titleOf = (page: ReturnType<typeof parseRoute>['page']): string => {
  switch (page) {
    case 'signin':
      return 'Sign in · Quire'
    case 'signup':
      return 'Create an account · Quire'
    case 'documents':
      return 'Documents · Quire'
    default:
      return 'Quire'
  }
}
