/**
 * Content a hostile or careless client writes straight into the Yjs
 * document, or brings in as a file, against a running node: exports and
 * the changes view carry only what the schema holds; NUL characters never
 * stop a version or a checkpoint from being stored; a document nested
 * 20,000 deep is refused with 422 (export, changes, restore) instead of
 * overflowing the stack; versions are parsed strictly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

interface Versions {
  lastSeq: number
  versions: { seq: number; name: string | null }[]
}

const element = (name: string, attrs: Record<string, string>, text: string): Y.XmlElement => {
  const node = new Y.XmlElement(name)
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value)
  node.insert(0, [new Y.XmlText(text)])
  return node
}

describe('hostile content', () => {
  let server: TestServer
  let user: ApiUser
  const open: { provider: { destroy(): void } }[] = []

  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', compactAfterUpdates: '20' },
    })
    user = await ApiUser.signUp(server.url, 'Eve')
  })
  afterAll(async () => {
    for (const client of open) client.provider.destroy()
    await server.dispose()
  })

  const connect = async (docId: string): Promise<Y.Doc> => {
    const client = user.connect(server.wsUrl, docId)
    open.push(client)
    await whenProviderSynced(client.provider)
    return client.doc
  }

  const versions = async (docId: string): Promise<Versions> =>
    (await (await user.call('GET', `/api/documents/${docId}/versions`)).json()) as Versions

  const stored = (docId: string, seq: number): Promise<void> =>
    waitUntil(async () => (await versions(docId)).lastSeq >= seq, `update ${seq} stored`)

  it('keeps NUL from stopping named versions and checkpoints, and out of every export', async () => {
    const docId = await user.createDocument('nul')
    const doc = await connect(docId)
    const paragraph = element('paragraph', {}, 'x\u0000y')
    doc.getXmlFragment('default').insert(0, [paragraph])
    await stored(docId, 1)

    const saved = await user.call('POST', `/api/documents/${docId}/versions`, { name: 'with nul' })
    expect(saved.status).toBe(201)

    // 20 more updates: the compactor's checkpoint (with its HTML) is stored.
    for (let i = 0; i < 25; i++) (paragraph.get(0) as Y.XmlText).insert(0, 'k')
    await waitUntil(
      async () => (await versions(docId)).versions.some((version) => version.name === null),
      'an automatic checkpoint stored',
    )
    for (const format of ['html', 'markdown', 'text', 'json']) {
      const response = await user.call('GET', `/api/documents/${docId}/export?format=${format}`)
      expect(response.status).toBe(200)
      const body = await response.text()
      expect(body).not.toContain('\u0000')
      expect(body).not.toContain('\\u0000')
    }

    const imported = await user.call('POST', '/api/documents/import', {
      orgId: user.orgId,
      format: 'markdown',
      content: '# T\u0000itle\n\na\u0000b',
    })
    expect(imported.status).toBe(201)
    const { id } = (await imported.json()) as { id: string }
    const text = await user.call('GET', `/api/documents/${id}/export?format=text`)
    expect(await text.text()).toBe('Title\n\nab')
  })

  it('answers the changes view with content only the schema holds', async () => {
    const docId = await user.createDocument('hostile')
    const doc = await connect(docId)
    const linked = new Y.XmlText()
    const linkParagraph = new Y.XmlElement('paragraph')
    linkParagraph.insert(0, [linked])
    doc
      .getXmlFragment('default')
      .insert(0, [
        element('script', {}, 'alert(1)'),
        element('paragraph', { onclick: 'alert(1)', style: 'x' }, 'p'),
        element('iframe', { src: 'javascript:alert(1)' }, 'frame'),
        element('heading', { level: '99' }, 'h'),
        linkParagraph,
      ])
    linked.insert(0, 'js', { link: { href: 'javascript:alert(1)' } })
    await stored(docId, 2)

    const { lastSeq } = await versions(docId)
    const changes = await user.call('GET', `/api/documents/${docId}/versions/${lastSeq}/changes`)
    expect(changes.status).toBe(200)
    const body = await changes.text()
    expect(body).not.toMatch(/"script"|iframe|onclick|style|javascript/)
    expect(body).toContain('alert(1)')
  })

  it('refuses to export or compare a document nested 20,000 deep (422), including a restore', async () => {
    const docId = await user.createDocument('deep')
    const doc = await connect(docId)
    doc.transact(() => {
      let parent: Y.XmlFragment | Y.XmlElement = doc.getXmlFragment('default')
      for (let i = 0; i < 20_000; i++) {
        const quote = new Y.XmlElement('blockquote')
        parent.insert(0, [quote])
        parent = quote
      }
      parent.insert(0, [element('paragraph', {}, 'bottom')])
    })
    await stored(docId, 1)
    const { lastSeq } = await versions(docId)

    for (const format of ['html', 'markdown', 'text', 'json']) {
      const response = await user.call('GET', `/api/documents/${docId}/export?format=${format}`)
      expect(response.status, format).toBe(422)
      expect(await response.json()).toMatchObject({ error: 'document too deeply nested to export' })
    }
    const changes = await user.call('GET', `/api/documents/${docId}/versions/${lastSeq}/changes`)
    expect(changes.status).toBe(422)

    doc.getText('text').insert(0, 'later')
    await stored(docId, lastSeq + 1)
    const restored = await user.call('POST', `/api/documents/${docId}/versions/${lastSeq}/restore`)
    expect(restored.status).toBe(422)
    expect(await restored.json()).toMatchObject({ error: 'document too deeply nested to restore' })
  })

  it('accepts only decimal digits as a version', async () => {
    const docId = await user.createDocument('seq')
    for (const seq of ['%20', '0x1', '+1', '1e-0', '1e3', '-1', '1.0', '1234567890123456']) {
      const state = await user.call('GET', `/api/documents/${docId}/versions/${seq}`)
      expect(state.status, seq).toBe(400)
      const restore = await user.call('POST', `/api/documents/${docId}/versions/${seq}/restore`)
      expect(restore.status, seq).toBe(400)
      const exported = await user.call('GET', `/api/documents/${docId}/export?seq=${seq}`)
      expect(exported.status, seq).toBe(400)
    }
    const since = await user.call('GET', `/api/documents/${docId}/versions/1/changes?since=`)
    expect(since.status).toBe(400)
    expect((await user.call('GET', `/api/documents/${docId}/versions/0`)).status).toBe(200)
  })
})
