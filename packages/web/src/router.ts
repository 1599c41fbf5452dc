/**
 * Client-side routing on the History API. The server answers every unknown
 * non-`/api` path with `index.html`, so these paths load the app directly:
 * `/`, `/signin`, `/signup`, `/d/<documentId>`.
 */
import { type MouseEvent, useSyncExternalStore } from 'react'

/** A page of the app, parsed from the location. */
export type Route =
  | { readonly page: 'documents' }
  | { readonly page: 'signin'; readonly next: string }
  | { readonly page: 'signup'; readonly next: string }
  | { readonly page: 'editor'; readonly docId: string }
  | { readonly page: 'not-found' }

const NAVIGATE_EVENT = 'quire:navigate'

/** Parses a path and query into a route; `next` is only ever a same-origin path. */
export const parseRoute = (pathname: string, search: string): Route => {
  if (pathname === '/' || pathname === '') return { page: 'documents' }
  if (pathname === '/signin' || pathname === '/signup') {
    const next = new URLSearchParams(search).get('next') ?? '/'
    // Only local paths: `//evil.example` or `https:` would leave the app.
    const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/'
    return { page: pathname === '/signin' ? 'signin' : 'signup', next: safeNext }
  }
  const editor = /^\/d\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/?$/.exec(pathname)
  if (editor?.[1] !== undefined) return { page: 'editor', docId: editor[1] }
  return { page: 'not-found' }
}

/** Goes to a path of the app without reloading. */
export const navigate = (path: string, { replace = false } = {}): void => {
  if (path === currentPath()) return
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  dispatchEvent(new Event(NAVIGATE_EVENT))
}

/** The sign-in path that comes back to where the person is now. */
export const signInPath = (): string => {
  const here = currentPath()
  return here === '/' ? '/signin' : `/signin?${new URLSearchParams({ next: here }).toString()}`
}

const currentPath = (): string => `${location.pathname}${location.search}`

const subscribe = (onChange: () => void): (() => void) => {
  addEventListener('popstate', onChange)
  addEventListener(NAVIGATE_EVENT, onChange)
  return () => {
    removeEventListener('popstate', onChange)
    removeEventListener(NAVIGATE_EVENT, onChange)
  }
}

/** The current path and query; re-renders on navigation. */
export const useLocationPath = (): string => useSyncExternalStore(subscribe, currentPath)

/**
 * A click handler for in-app links: plain left clicks navigate without a
 * reload; modified clicks (new tab, new window) keep the browser's default.
 */
export const handleLinkClick = (event: MouseEvent<HTMLAnchorElement>, path: string): void => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
  event.preventDefault()
  navigate(path)
}
