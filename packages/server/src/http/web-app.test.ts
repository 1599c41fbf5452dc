import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { createHttpApp } from './http-app.js'
import { hasWebApp, IMMUTABLE, REVALIDATE } from './web-app.js'

describe('the web app', () => {
  let dir: string
  let app: FastifyInstance
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-web-'))
    await mkdir(join(dir, 'assets'))
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Quire</title>')
    await writeFile(join(dir, 'assets', 'index-3f2a9c1d.js'), 'console.log(1)')
    await writeFile(join(dir, 'favicon.ico'), 'icon')
    app = createHttpApp(
      pino({ level: 'silent' }),
      { checkReady: async () => undefined },
      { webDir: dir },
    )
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the entry page as no-cache, with the security headers', async () => {
    const response = await app.inject({ url: '/' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['cache-control']).toBe(REVALIDATE)
    expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'")
  })

  it('caches content-hashed assets for a year as immutable, and other files not', async () => {
    const asset = await app.inject({ url: '/assets/index-3f2a9c1d.js' })
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['cache-control']).toBe(IMMUTABLE)
    const icon = await app.inject({ url: '/favicon.ico' })
    expect(icon.headers['cache-control']).toBe(REVALIDATE)
  })

  it('answers app routes with the entry page, and unknown API paths with a JSON 404 that is not stored', async () => {
    const route = await app.inject({ url: '/documents/abc' })
    expect(route.statusCode).toBe(200)
    expect(route.body).toContain('<title>Quire</title>')
    expect(route.headers['cache-control']).toBe(REVALIDATE)
    const api = await app.inject({ url: '/api/nothing-here' })
    expect(api.statusCode).toBe(404)
    expect(api.headers['cache-control']).toBe('no-store')
    expect(api.json()).toMatchObject({ error: 'not found' })
  })

  it('answers with a JSON 404 when there is no build', async () => {
    const bare = createHttpApp(
      pino({ level: 'silent' }),
      { checkReady: async () => undefined },
      { webDir: join(dir, 'missing') },
    )
    const response = await bare.inject({ url: '/documents/abc' })
    expect(response.statusCode).toBe(404)
    expect(hasWebApp(join(dir, 'missing'))).toBe(false)
    await bare.close()
  })
})
