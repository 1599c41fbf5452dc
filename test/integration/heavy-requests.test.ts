/**
 * Heavy requests (export, import, changes, named versions) against a node
 * with accounts: they run in worker threads and under per-user and per-node
 * budgets, so one member exporting or importing a large document does not
 * stall everyone else's documents on the node, nor hold the import worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

/** Longest another document's edit may take to travel between two clients meanwhile, ms. */
const MAX_ROUND_TRIP_MS = 250

/** Paragraphs of the large document: several seconds to render as Markdown on one thread. */
const LARGE_PARAGRAPHS = 60_000

/**
 * Measures the longest edit round trip between two clients of `docId`
 * until `stop` is called.
 */
const probeRoundTrips = async (
  user: ApiUser,
  wsUrl: string,
  docId: string,
): Promise<{ stop: () => Promise<number> }> => {
  const one = user.connect(wsUrl, docId)
  const two = user.connect(wsUrl, docId)
  await Promise.all([whenProviderSynced(one.provider), whenProviderSynced(two.provider)])
  let stopped = false
  let maxMs = 0
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const mark = `m${i};`
      const startedAt = performance.now()
      one.doc.getText('text').insert(0, mark)
      await waitUntil(
        () => two.doc.getText('text').toString().startsWith(mark),
        'edit seen',
        60_000,
        2,
      )
      maxMs = Math.max(maxMs, performance.now() - startedAt)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await running
      one.provider.destroy()
      two.provider.destroy()
      return maxMs
    },
  }
}

describe('heavy requests', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', importTimeoutMs: '3000' },
    })
  })
  afterAll(async () => {
    await server?.dispose()
  })

  it('renders exports and named versions of a large document in a worker: other documents keep flowing', async () => {
    const exporter = await ApiUser.signUp(server.url, 'Ezra')
    const other = await ApiUser.signUp(server.url, 'Olga')
    const large = await exporter.createDocument('Large')
    await server.rooms.applyServerEdit(large, (doc) => {
      const paragraphs = Array.from({ length: LARGE_PARAGRAPHS }, (_, i) => {
        const paragraph = new Y.XmlElement('paragraph')
        paragraph.insert(0, [new Y.XmlText(`line ${i} with *some* text`)])
        return paragraph
      })
      doc.getXmlFragment('default').insert(0, paragraphs)
    })
    const probe = await probeRoundTrips(other, server.wsUrl, await other.createDocument('Small'))

    const exportAs = async (format: string): Promise<Response> =>
      exporter.call('GET', `/api/documents/${large}/export?format=${format}`)
    const markdown = await exportAs('markdown')
    expect(markdown.status).toBe(200)
    expect((await markdown.text()).split('\n\n')).toHaveLength(LARGE_PARAGRAPHS)
    const html = await exportAs('html')
    expect(html.status).toBe(200)
    expect(await html.text()).toContain('<p>line 59999 with *some* text</p>')
    const saved = await exporter.call('POST', `/api/documents/${large}/versions`, { name: 'big' })
    expect(saved.status).toBe(201)

    expect(await probe.stop()).toBeLessThan(MAX_ROUND_TRIP_MS)
  })

  it('answers 429 with Retry-After past a user’s concurrent heavy requests', async () => {
    const user = await ApiUser.signUp(server.url, 'Hugo')
    const docId = await user.createDocument('Busy')
    // Large enough that each export renders for a while in the worker.
    await server.rooms.applyServerEdit(docId, (doc) => {
      const paragraphs = Array.from({ length: 20_000 }, (_, i) => {
        const paragraph = new Y.XmlElement('paragraph')
        paragraph.insert(0, [new Y.XmlText(`busy ${i}`)])
        return paragraph
      })
      doc.getXmlFragment('default').insert(0, paragraphs)
    })
    const responses = await Promise.all(
      ['markdown', 'html', 'text', 'json'].map((format) =>
        user.call('GET', `/api/documents/${docId}/export?format=${format}`),
      ),
    )
    const refused = responses.filter((response) => response.status === 429)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]?.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(responses.filter((response) => response.status === 200).length).toBeGreaterThan(0)
  })

  it('refuses an import with more nodes than allowed with 422', async () => {
    const user = await ApiUser.signUp(server.url, 'Tara')
    const table = `|a|\n|-|\n${'|x|\n'.repeat(40_000)}`
    const response = await user.call('POST', '/api/documents/import', {
      orgId: user.orgId,
      format: 'markdown',
      content: table,
    })
    expect(response.status).toBe(422)
    expect(((await response.json()) as { error: string }).error).toContain('too complex')
  })

  it('keeps one user’s slow import from holding others’: one import each, then a time limit', async () => {
    const hog = await ApiUser.signUp(server.url, 'Hogan')
    const other = await ApiUser.signUp(server.url, 'Nia')
    const slow = hog.call('POST', '/api/documents/import', {
      orgId: hog.orgId,
      format: 'markdown',
      content: '_a'.repeat(512 * 1024),
    })
    // Sent once the slow one holds the worker (or already failed).
    await new Promise((resolve) => setTimeout(resolve, 300))
    const second = await hog.call('POST', '/api/documents/import', {
      orgId: hog.orgId,
      format: 'markdown',
      content: '# again',
    })
    expect(second.status).toBe(429)

    const startedAt = performance.now()
    const small = await other.call('POST', '/api/documents/import', {
      orgId: other.orgId,
      format: 'markdown',
      content: '# hello\n\nworld',
    })
    expect(small.status).toBe(201)
    // The 3 s limit, then a fresh worker's start (tiptap, happy-dom): not 30 s.
    expect(performance.now() - startedAt).toBeLessThan(8_000)
    expect((await slow).status).toBe(422)
  })

  it('restores only the blocks that changed, and refuses to replace more than MAX_RESTORED_BLOCKS', async () => {
    const user = await ApiUser.signUp(server.url, 'Rosa')
    const docId = await user.createDocument('Restored')
    const lastSeq = async (): Promise<number> => {
      const response = await user.call('GET', `/api/documents/${docId}/versions`)
      return ((await response.json()) as { lastSeq: number }).lastSeq
    }
    const write = (prefix: string, from: number) =>
      server.rooms.applyServerEdit(docId, (doc) => {
        const fragment = doc.getXmlFragment('default')
        if (fragment.length > from) fragment.delete(from, fragment.length - from)
        const paragraphs = Array.from({ length: 5_000 - from }, (_, i) => {
          const paragraph = new Y.XmlElement('paragraph')
          paragraph.insert(0, [new Y.XmlText(`${prefix} ${i}`)])
          return paragraph
        })
        fragment.insert(from, paragraphs)
      })
    await write('first', 0)
    const first = await lastSeq()
    await write('second', 4_990)
    const probe = await probeRoundTrips(user, server.wsUrl, await user.createDocument('Probe'))
    const restore = (seq: number): Promise<Response> =>
      user.call('POST', `/api/documents/${docId}/versions/${seq}/restore`)
    expect((await restore(first)).status).toBe(204)
    expect(await probe.stop()).toBeLessThan(MAX_ROUND_TRIP_MS)
    const text = await user.call('GET', `/api/documents/${docId}/export?format=text`)
    expect((await text.text()).endsWith('first 4999')).toBe(true)

    await write('third', 0)
    const refused = await restore(first)
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as { error: string }).error).toContain('import it instead')
  })
})
