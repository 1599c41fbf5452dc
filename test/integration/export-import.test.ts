/**
 * Export and import through the API against a running node with accounts
 * and PostgreSQL: every format with the version as ETag (and 304 for it),
 * old versions, imports seen exactly once by two providers opening them at
 * the same moment, roles, sanitisation end to end, limits, and the HTML
 * rendering stored with each checkpoint.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docToHtml, docToText } from '@quire/server'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

/** One of every node and mark type of the schema, as a person's HTML file might hold them. */
const EVERY_TYPE_HTML = [
  '<h1>Plan</h1><h2>Goals</h2><h3>Detail</h3>',
  '<p>plain <strong>bold</strong> <em>italic</em> <s>struck</s> <code>code</code> ',
  '<a href="https://example.com/">link</a><br>next line</p>',
  '<ul><li><p>bullet</p></li></ul><ol><li><p>numbered</p></li></ol>',
  '<ul data-type="taskList"><li data-type="taskItem" data-checked="true"><p>done</p></li></ul>',
  '<blockquote><p>quoted</p></blockquote>',
  '<pre><code class="language-js">let a = 1</code></pre><hr><p>end</p>',
].join('')

const EVERY_TYPE_TEXT = [
  'Plan',
  'Goals',
  'Detail',
  'plain bold italic struck code link\nnext line',
  'bullet',
  'numbered',
  'done',
  'quoted',
  'let a = 1',
  'end',
].join('\n\n')

const HOSTILE_HTML = [
  '<h1 onclick="steal()" style="color:red">Safe title</h1>',
  '<p>text<img src="http://evil.example/pixel.png" onerror="alert(1)"></p>',
  '<script>alert("script")</script><iframe src="http://evil.example/"></iframe>',
  '<p><a href="javascript:alert(2)">js link</a> <a href="https://ok.example/">ok</a></p>',
].join('')

interface DocumentInfo {
  id: string
  orgId: string
  title: string
  role: string
}

describe('export and import', () => {
  let server: TestServer
  let db: pg.Client
  let owner: ApiUser
  let viewer: ApiUser
  let stranger: ApiUser

  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', compactAfterUpdates: '5' },
    })
    db = new pg.Client({ connectionString: server.databaseUrl as string })
    await db.connect()
    owner = await ApiUser.signUp(server.url, 'Olga')
    viewer = await ApiUser.signUp(server.url, 'Viv')
    stranger = await ApiUser.signUp(server.url, 'Sam')
    const added = await owner.call('PUT', `/api/orgs/${owner.orgId}/members`, {
      email: viewer.email,
      role: 'member',
    })
    expect(added.status).toBe(200)
  })
  afterAll(async () => {
    await db.end()
    await server.dispose()
  })

  const importAs = async (
    user: ApiUser,
    body: Record<string, unknown>,
  ): Promise<{ status: number; document: DocumentInfo }> => {
    const response = await user.call('POST', '/api/documents/import', body)
    return { status: response.status, document: (await response.json()) as DocumentInfo }
  }

  const exportAs = (
    user: ApiUser,
    docId: string,
    query: string,
    headers: Record<string, string> = {},
  ): Promise<Response> =>
    fetch(`${server.url}/api/documents/${docId}/export?${query}`, {
      headers: { cookie: user.cookieHeader, origin: user.origin, ...headers },
    })

  const storedUpdates = async (docId: string): Promise<{ userId: string | null }[]> =>
    (
      await db.query<{ userId: string | null }>(
        'SELECT user_id AS "userId" FROM updates WHERE doc_id = $1 ORDER BY seq',
        [docId],
      )
    ).rows

  const share = async (docId: string, user: ApiUser, role: string): Promise<void> => {
    const shared = await owner.call('PUT', `/api/documents/${docId}/members`, {
      email: user.email,
      role,
    })
    expect(shared.status).toBe(200)
  }

  it('exports every format with the version as ETag, 304 for a matching If-None-Match', async () => {
    const imported = await importAs(owner, {
      orgId: owner.orgId,
      format: 'html',
      content: EVERY_TYPE_HTML,
    })
    expect(imported.status).toBe(201)
    const docId = imported.document.id
    expect(imported.document).toMatchObject({ title: 'Plan', role: 'owner', orgId: owner.orgId })
    await share(docId, viewer, 'viewer')

    const expected = {
      html: { type: 'text/html; charset=utf-8', file: 'Plan.html', has: '<h1>Plan</h1>' },
      markdown: { type: 'text/markdown; charset=utf-8', file: 'Plan.md', has: '# Plan' },
      text: { type: 'text/plain; charset=utf-8', file: 'Plan.txt', has: EVERY_TYPE_TEXT },
      json: { type: 'application/json; charset=utf-8', file: 'Plan.json', has: '"type":"doc"' },
    }
    for (const [format, want] of Object.entries(expected)) {
      const response = await exportAs(viewer, docId, `format=${format}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('etag')).toBe('"1"')
      expect(response.headers.get('content-type')).toBe(want.type)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(response.headers.get('content-disposition')).toContain(`filename="${want.file}"`)
      expect(await response.text()).toContain(want.has)

      const again = await exportAs(viewer, docId, `format=${format}`, { 'if-none-match': '"1"' })
      expect(again.status).toBe(304)
      expect(again.headers.get('etag')).toBe('"1"')
    }
    const page = await (await exportAs(owner, docId, 'format=html')).text()
    expect(page).toMatch(/^<!DOCTYPE html>/)
    expect(page).toContain('<title>Plan</title>')
    for (const fragment of ['<s>struck</s>', 'data-checked="true"', 'language-js', '<hr/>']) {
      expect(page).toContain(fragment)
    }

    // An edit makes a new version; the old one stays exportable by seq.
    const client = owner.connect(server.wsUrl, docId)
    await whenProviderSynced(client.provider)
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('added live')])
    client.doc.getXmlFragment('default').push([paragraph])
    // The socket and the HTTP request race; once the edit is stored, the
    // same If-None-Match no longer matches.
    let current = await exportAs(owner, docId, 'format=text', { 'if-none-match': '"1"' })
    await waitUntil(async () => {
      current = await exportAs(owner, docId, 'format=text', { 'if-none-match': '"1"' })
      return current.status === 200
    }, 'the edit in a new version')
    expect(current.headers.get('etag')).toBe('"2"')
    expect(await current.text()).toBe(`${EVERY_TYPE_TEXT}\n\nadded live`)
    client.provider.destroy()

    const old = await exportAs(viewer, docId, 'format=text&seq=1')
    expect(old.headers.get('etag')).toBe('"1"')
    expect(await old.text()).toBe(EVERY_TYPE_TEXT)
    expect((await exportAs(viewer, docId, 'format=text&seq=0')).status).toBe(200)
    expect((await exportAs(viewer, docId, 'format=text&seq=99')).status).toBe(404)
    expect((await exportAs(viewer, docId, 'format=pdf')).status).toBe(400)
    expect((await exportAs(stranger, docId, 'format=html')).status).toBe(404)
  })

  for (const [format, content, title] of [
    ['html', EVERY_TYPE_HTML, 'Plan'],
    ['markdown', '# Notes\n\n- [x] one\n- [ ] two\n\nsome **text**\n', 'Notes'],
  ] as const) {
    it(`imports ${format} as one stored update that two providers opening at once see once`, async () => {
      const imported = await importAs(owner, { orgId: owner.orgId, format, content })
      expect(imported.status).toBe(201)
      expect(imported.document.title).toBe(title)
      const docId = imported.document.id

      // Both connect in the same turn: the content is already the stored
      // first update, so each gets it once through sync.
      const clients = [owner.connect(server.wsUrl, docId), owner.connect(server.wsUrl, docId)]
      await Promise.all(clients.map((client) => whenProviderSynced(client.provider)))
      const texts = clients.map((client) => docToText(client.doc))
      const exported = await (await exportAs(owner, docId, 'format=text')).text()
      expect(texts[0]).toBe(exported)
      expect(texts[1]).toBe(exported)
      expect(exported.split(title).length).toBe(2)
      if (format === 'html') expect(exported).toBe(EVERY_TYPE_TEXT)
      expect(await storedUpdates(docId)).toEqual([{ userId: owner.userId }])
      // What operators see: who imported what kind of file and how big, never its content.
      const logged = server.logs
        .withMessage('document imported')
        .find((line) => line.docId === docId)
      expect(logged).toMatchObject({ userId: owner.userId, format, bytes: expect.any(Number) })
      expect(JSON.stringify(logged)).not.toContain(title)
      for (const client of clients) client.provider.destroy()
    })
  }

  it('titles an import from the body, then the first heading, then a default', async () => {
    const titled = await importAs(owner, {
      orgId: owner.orgId,
      title: 'Given',
      format: 'markdown',
      content: '# Heading',
    })
    expect(titled.document.title).toBe('Given')
    const untitled = await importAs(owner, {
      orgId: owner.orgId,
      format: 'markdown',
      content: 'no heading here',
    })
    expect(untitled.document.title).toBe('Imported document')
  })

  it('lets a viewer export but not import into an organisation they are not in', async () => {
    const docId = await owner.createDocument('Shared')
    await share(docId, viewer, 'viewer')
    expect((await exportAs(viewer, docId, 'format=markdown')).status).toBe(200)

    const intoOther = await importAs(viewer, {
      orgId: stranger.orgId,
      format: 'html',
      content: '<p>not here</p>',
    })
    expect(intoOther.status).toBe(404)
    const unknownOrg = await importAs(viewer, {
      orgId: '00000000-0000-4000-8000-000000000000',
      format: 'html',
      content: '<p>x</p>',
    })
    expect(unknownOrg.status).toBe(404)
    const anonymous = await fetch(`${server.url}/api/documents/${docId}/export?format=text`)
    expect(anonymous.status).toBe(401)
  })

  it('sanitises imports end to end: what a client receives has no script, handler, image, frame or bad link', async () => {
    for (const [format, content] of [
      ['html', HOSTILE_HTML],
      [
        'markdown',
        '# Safe title\n\n[js link](javascript:alert(2)) ![x](http://evil.example/p.png)\n',
      ],
    ] as const) {
      const imported = await importAs(owner, { orgId: owner.orgId, format, content })
      expect(imported.status).toBe(201)
      expect(imported.document.title).toBe('Safe title')
      const client = owner.connect(server.wsUrl, imported.document.id)
      await whenProviderSynced(client.provider)
      const seen = docToHtml(client.doc)
      const exported = await (await exportAs(owner, imported.document.id, 'format=html')).text()
      for (const html of [seen, exported]) {
        expect(html).toContain('js link')
        for (const gone of [
          '<script',
          'onclick',
          'onerror',
          'style=',
          '<img',
          '<iframe',
          'evil.example',
          'javascript',
        ]) {
          expect(html).not.toContain(gone)
        }
      }
      client.provider.destroy()
    }
  })

  it('refuses oversized and malformed imports with 413 and 400', async () => {
    const tooBig = await owner.call('POST', '/api/documents/import', {
      orgId: owner.orgId,
      format: 'markdown',
      content: 'a'.repeat(1024 * 1024 + 1),
    })
    expect(tooBig.status).toBe(413)
    expect(((await tooBig.json()) as { error: string }).error).toContain('import limit')
    const hugeBody = await owner.call('POST', '/api/documents/import', {
      orgId: owner.orgId,
      format: 'markdown',
      content: '"'.repeat(3 * 1024 * 1024),
    })
    expect(hugeBody.status).toBe(413)
    for (const body of [
      { orgId: owner.orgId, format: 'docx', content: 'x' },
      { orgId: owner.orgId, format: 'html' },
      { orgId: owner.orgId, format: 'html', content: 'x', title: '' },
    ]) {
      expect((await owner.call('POST', '/api/documents/import', body)).status).toBe(400)
    }
    const stored = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM documents WHERE title = 'Imported document' AND org_id = $1",
      [owner.orgId],
    )
    // Only the untitled import of the titling test: refused imports create nothing.
    expect(stored.rows[0]?.n).toBe(1)
  })

  it('stores an HTML rendering with compaction checkpoints and named versions', async () => {
    const imported = await importAs(owner, {
      orgId: owner.orgId,
      format: 'html',
      content: '<h1>Backup</h1><p>start</p>',
    })
    const docId = imported.document.id
    const client = owner.connect(server.wsUrl, docId)
    await whenProviderSynced(client.provider)
    for (let i = 0; i < 6; i++) {
      const paragraph = new Y.XmlElement('paragraph')
      paragraph.insert(0, [new Y.XmlText(`line ${i}`)])
      client.doc.getXmlFragment('default').push([paragraph])
    }
    const checkpointHtml = async (): Promise<string | null> => {
      const { rows } = await db.query<{ html: string | null }>(
        'SELECT html FROM checkpoints WHERE doc_id = $1 AND name IS NULL ORDER BY seq DESC LIMIT 1',
        [docId],
      )
      return rows[0]?.html ?? null
    }
    await waitUntil(async () => (await checkpointHtml()) !== null, 'a checkpoint with html')
    expect(await checkpointHtml()).toMatch(/^<h1>Backup<\/h1><p>start<\/p><p>line 0<\/p>/)

    const saved = await owner.call('POST', `/api/documents/${docId}/versions`, { name: 'Kept' })
    expect(saved.status).toBe(201)
    const { rows } = await db.query<{ html: string | null }>(
      "SELECT html FROM checkpoints WHERE doc_id = $1 AND name = 'Kept'",
      [docId],
    )
    expect(rows[0]?.html).toContain('<h1>Backup</h1>')
    client.provider.destroy()
  })
})
