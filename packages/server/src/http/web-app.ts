/**
 * Serves the built web app: content-hashed assets are cached for a year as
 * immutable (a new build has new names), everything else, `index.html`
 * first, is `no-cache` (revalidated on every load, so a deploy reaches
 * people at once). Paths the app routes itself fall back to `index.html`.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

/** A file name with a content hash, as Vite writes them: `index-3f2a9c1d.js`. */
const HASHED_FILE = /[.-][A-Za-z0-9_-]{8,}\.(?:js|css|woff2?|svg|png|jpg|webp|wasm|map)$/

/** Cache-Control of immutable hashed assets. */
export const IMMUTABLE = 'public, max-age=31536000, immutable'
/** Cache-Control of the entry page and other unhashed files. */
export const REVALIDATE = 'no-cache'

/** Whether `webDir` holds a built web app. */
export const hasWebApp = (webDir: string | null | undefined): webDir is string =>
  webDir !== null && webDir !== undefined && existsSync(join(webDir, 'index.html'))

/**
 * Registers the static files of the web app in `webDir` (which must hold
 * `index.html`). Plugin registration completes when the app is readied.
 */
export const registerWebApp = (app: FastifyInstance, webDir: string): void => {
  void app.register(fastifyStatic, {
    root: webDir,
    index: ['index.html'],
    // Cache-Control is decided here, per file, not by the plugin.
    cacheControl: false,
    setHeaders: (response, path) => {
      response.setHeader('cache-control', HASHED_FILE.test(path) ? IMMUTABLE : REVALIDATE)
    },
  })
}

/** Whether a request that matched no route is one the web app routes itself. */
export const isWebAppRoute = (method: string, url: string): boolean => {
  const path = url.split('?', 1)[0] ?? ''
  return (
    method === 'GET' &&
    !path.startsWith('/api/') &&
    !path.startsWith('/sync/') &&
    !/\.[a-z0-9]+$/i.test(path)
  )
}
