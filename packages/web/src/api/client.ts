/**
 * The fetch client for Quire's `/api`. Every call is same-origin, so the
 * browser sends the session cookies and the `Origin` header the server
 * checks on state-changing requests. Expected failures (a wrong password,
 * a missing document, no network) are values, never exceptions.
 */

/** The outcome of one API call; `status` 0 means the request never reached the server. */
export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly data: T }
  | {
      readonly ok: false
      readonly status: number
      /** The server's short error text, or a description of the network failure. */
      readonly error: string
      /** Seconds from a 429's `Retry-After`, else null. */
      readonly retryAfterS: number | null
    }

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * Routes whose 401 is an answer, not an expired access token: a wrong
 * password, or the refresh itself failing.
 */
const NO_REFRESH_PATHS = new Set(['/api/auth/signin', '/api/auth/signup', '/api/auth/refresh'])

/** How a refresh went: `unreachable` says nothing about the session. */
export type RefreshOutcome = 'refreshed' | 'denied' | 'unreachable'

let refreshInFlight: Promise<RefreshOutcome> | null = null
let onSessionLost: () => void = () => {}

/**
 * Sets what happens when the session is gone for good (refresh failed):
 * the app sends the person to the sign-in page.
 */
export const setSessionLostHandler = (handler: () => void): void => {
  onSessionLost = handler
}

/**
 * Trades the refresh cookie for a new access cookie. Concurrent callers
 * share one request: the server rotates the refresh token on every use, and
 * two parallel refreshes would present the same token twice.
 */
export const refreshSession = (): Promise<RefreshOutcome> => {
  refreshInFlight ??= fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })
    .then((response): RefreshOutcome => {
      if (response.ok) return 'refreshed'
      return response.status === 401 || response.status === 403 ? 'denied' : 'unreachable'
    })
    .catch((): RefreshOutcome => 'unreachable')
    .finally(() => {
      refreshInFlight = null
    })
  return refreshInFlight
}

/**
 * Calls the API. A 401 (an expired access token) is answered by one refresh
 * and one retry; if that fails too the session is lost and `onSessionLost`
 * runs. Sign-in, sign-up and refresh answer 401 for themselves.
 */
export const apiRequest = async <T>(
  method: Method,
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> => {
  let response = await send(method, path, body)
  if (response !== null && response.status === 401 && !NO_REFRESH_PATHS.has(path)) {
    if ((await refreshSession()) === 'refreshed') response = await send(method, path, body)
    if (response !== null && response.status === 401) onSessionLost()
  }
  if (response === null) {
    return { ok: false, status: 0, error: 'You appear to be offline.', retryAfterS: null }
  }
  return toResult<T>(response)
}

/**
 * Calls the API for a body that is not JSON (a Yjs update, an export):
 * the same refresh and retry as `apiRequest`, but the response is handed
 * over unread when it succeeded; failures are read as `apiRequest` reads them.
 */
export const apiFetch = async (method: Method, path: string): Promise<ApiResult<Response>> => {
  let response = await send(method, path, undefined)
  if (response !== null && response.status === 401) {
    if ((await refreshSession()) === 'refreshed') response = await send(method, path, undefined)
    if (response !== null && response.status === 401) onSessionLost()
  }
  if (response === null) {
    return { ok: false, status: 0, error: 'You appear to be offline.', retryAfterS: null }
  }
  if (response.ok) return { ok: true, status: response.status, data: response }
  return toResult<Response>(response)
}

const send = async (method: Method, path: string, body: unknown): Promise<Response | null> => {
  try {
    return await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    })
  } catch {
    // fetch rejects only when no answer arrived (offline, server down).
    return null
  }
}

const toResult = async <T>(response: Response): Promise<ApiResult<T>> => {
  const text = await response.text().catch(() => '')
  const parsed = parseJson(text)
  if (response.ok) return { ok: true, status: response.status, data: parsed as T }
  const error =
    typeof parsed === 'object' && parsed !== null && 'error' in parsed
      ? String((parsed as { error: unknown }).error)
      : `request failed (${response.status})`
  return { ok: false, status: response.status, error, retryAfterS: parseRetryAfter(response) }
}

const parseJson = (text: string): unknown => {
  if (text === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** `Retry-After` in seconds (the server sends delta-seconds, never a date). */
const parseRetryAfter = (response: Response): number | null => {
  const value = Number(response.headers.get('retry-after'))
  return Number.isFinite(value) && value > 0 ? value : null
}
