/**
 * Who is signed in, shared by every page. Loaded once from `/api/auth/me`
 * (after a refresh when the access token expired). Offline, the last answer
 * kept in localStorage stands in, so documents opened before still open.
 */
import {
  createContext,
  type ReactElement,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react'
import { fetchMe } from './api/endpoints.js'
import type { Me } from './api/types.js'
import { CACHED_ME_KEY, loadCachedJson, storeCachedJson } from './sync/offline-cache.js'

/**
 * Where the session stands. `offline`: the server could not be asked; `me`
 * is the cached answer. `no-accounts`: the server has no account API (it
 * runs with `--auth none`, for tests and benchmarks), so the app cannot work.
 */
export type SessionState =
  | { readonly status: 'loading' }
  | { readonly status: 'signed-out' }
  | { readonly status: 'no-accounts' }
  | { readonly status: 'signed-in'; readonly me: Me }
  | { readonly status: 'offline'; readonly me: Me | null }

interface SessionContextValue {
  readonly session: SessionState
  /** Asks the server again (after sign-in, or when back online). */
  readonly reload: () => Promise<SessionState>
  /** Forgets the person locally (after sign-out or a failed refresh). */
  readonly markSignedOut: () => void
}

const SessionContext = createContext<SessionContextValue | null>(null)

export const SessionProvider = ({ children }: { children: ReactNode }): ReactElement => {
  const [session, setSession] = useState<SessionState>({ status: 'loading' })
  const latestRequest = useRef(0)

  const reload = useCallback(async (): Promise<SessionState> => {
    // Only the latest question counts: the answer to the check at start
    // ("signed out") may arrive after a sign-in's check ("signed in").
    const request = ++latestRequest.current
    const result = await fetchMe()
    let next: SessionState
    if (result.ok) {
      storeCachedJson(CACHED_ME_KEY, result.data)
      next = { status: 'signed-in', me: result.data }
    } else if (result.status === 401) {
      next = { status: 'signed-out' }
    } else if (result.status === 404) {
      // With `--auth none` a node serves no `/api` routes at all (docs/API.md).
      next = { status: 'no-accounts' }
    } else {
      next = { status: 'offline', me: readCachedMe() }
    }
    if (request === latestRequest.current) setSession(next)
    return next
  }, [])

  const markSignedOut = useCallback(() => {
    latestRequest.current++
    setSession({ status: 'signed-out' })
  }, [])

  useEffect(() => {
    void reload()
    const handleOnline = (): void => void reload()
    addEventListener('online', handleOnline)
    return () => removeEventListener('online', handleOnline)
  }, [reload])

  const value = useMemo(
    () => ({ session, reload, markSignedOut }),
    [session, reload, markSignedOut],
  )
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

/** The session; only inside `SessionProvider`. */
export const useSession = (): SessionContextValue => {
  const value = useContext(SessionContext)
  if (value === null) throw new Error('useSession outside SessionProvider')
  return value
}

/** The signed-in person, live or cached; null while unknown. */
export const meOf = (session: SessionState): Me | null =>
  session.status === 'signed-in' || session.status === 'offline' ? session.me : null

const readCachedMe = (): Me | null => {
  const cached = loadCachedJson(CACHED_ME_KEY)
  if (typeof cached !== 'object' || cached === null) return null
  const me = cached as Partial<Me>
  return typeof me.user?.id === 'string' && Array.isArray(me.organisations) ? (me as Me) : null
}
