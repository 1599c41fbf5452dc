/*
 * Quire's service worker: lets the app itself load with no network, so a
 * person who reloads or reopens a document while offline gets the editor
 * and their offline edits (kept in IndexedDB) back. It serves only the app
 * shell: the entry page (network first, the cached copy when offline) and
 * the content-hashed assets (cache first; they never change). API calls and
 * the sync socket pass through untouched, and sign-out's Clear-Site-Data
 * removes this cache with everything else.
 */
const CACHE = 'quire-shell-v1'
const ENTRY = '/index.html'

/** The entry page and every asset it names, fetched fresh. */
const cacheShell = async () => {
  const cache = await caches.open(CACHE)
  const response = await fetch(ENTRY, { cache: 'no-cache' })
  if (!response.ok) return
  const html = await response.clone().text()
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
  await cache.put(ENTRY, response)
  await cache.addAll(assets)
}

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()))
})

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name)
      await self.clients.claim()
    })(),
  )
})

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin) return
  if (request.mode === 'navigate' && !url.pathname.startsWith('/api/')) {
    event.respondWith(
      fetch(request).then(
        (response) => {
          // A fresh entry page means a new build may be out: refresh the shell.
          if (response.ok) event.waitUntil(cacheShell().catch(() => undefined))
          return response
        },
        async () => (await caches.match(ENTRY)) ?? Response.error(),
      ),
    )
    return
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      (async () => {
        const cached = await caches.match(request)
        if (cached !== undefined) return cached
        const response = await fetch(request)
        if (response.ok) {
          const cache = await caches.open(CACHE)
          await cache.put(request, response.clone())
        }
        return response
      })(),
    )
  }
})
