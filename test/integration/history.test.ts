/**
 * History through the API against a running node with accounts: versions
 * with their editors, the state at any stored update, named versions, and
 * restore applied as a new, attributed edit that everyone sees live, while
 * another person keeps typing.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

/** Replaces the document's rich text with one paragraph holding `text`. */
const writeParagraph = (doc: Y.Doc, text: string): void => {
  const fragment = doc.getXmlFragment('default')
  doc.transact(() => {
    if (fragment.length > 0) fragment.delete(0, fragment.length)
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText(text)])
    fragment.insert(0, [paragraph])
  })
}

const contentOf = (doc: Y.Doc): string => doc.getXmlFragment('default').toString()

interface Versions {
  lastSeq: number
  current: { id: string; name: string | null }[]
  versions: { seq: number; name: string | null; createdBy: string | null; editors: unknown[] }[]
}

describe('document history', () => {
  let server: TestServer
  let owner: ApiUser
  let editor: ApiUser
  let viewer: ApiUser
  let docId: string

  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres', flags: { auth: 'required' } })
    owner = await ApiUser.signUp(server.url, 'Hana')
    editor = await ApiUser.signUp(server.url, 'Emil')
    viewer = await ApiUser.signUp(server.url, 'Vic')
    docId = await owner.createDocument('History')
    for (const [user, role] of [
      [editor, 'editor'],
      [viewer, 'viewer'],
    ] as const) {
      await owner.call('PUT', `/api/orgs/${owner.orgId}/members`, {
        email: user.email,
        role: 'member',
      })
      const shared = await owner.call('PUT', `/api/documents/${docId}/members`, {
        email: user.email,
        role,
      })
      expect(shared.status).toBe(200)
    }
  })
  afterAll(async () => {
    await server.dispose()
  })

  const versions = async (user: ApiUser): Promise<Versions> => {
    const response = await user.call('GET', `/api/documents/${docId}/versions`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    return (await response.json()) as Versions
  }

  const versionContent = async (user: ApiUser, seq: number): Promise<string> => {
    const response = await user.call('GET', `/api/documents/${docId}/versions/${seq}`)
    expect(response.status).toBe(200)
    const doc = new Y.Doc()
    Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()))
    return contentOf(doc)
  }

  it('lists versions with their editors, rebuilds any point, and restores under concurrent editing', async () => {
    const ownerClient = owner.connect(server.wsUrl, docId)
    const editorClient = editor.connect(server.wsUrl, docId)
    await Promise.all([
      whenProviderSynced(ownerClient.provider),
      whenProviderSynced(editorClient.provider),
    ])

    writeParagraph(ownerClient.doc, 'first version')
    await waitUntil(async () => (await versions(owner)).lastSeq >= 1, 'the first edit stored')
    const firstSeq = (await versions(owner)).lastSeq
    const saved = await owner.call('POST', `/api/documents/${docId}/versions`, { name: 'Draft 1' })
    expect(saved.status).toBe(201)
    expect(await saved.json()).toEqual({ seq: firstSeq, name: 'Draft 1' })

    writeParagraph(editorClient.doc, 'second version')
    await waitUntil(
      async () => (await versions(owner)).lastSeq > firstSeq,
      "the editor's change stored",
    )
    const listed = await versions(viewer)
    expect(listed.versions).toContainEqual(
      expect.objectContaining({
        seq: firstSeq,
        name: 'Draft 1',
        createdBy: owner.userId,
        editors: [{ id: owner.userId, name: 'Hana' }],
      }),
    )
    expect(listed.current).toEqual([{ id: editor.userId, name: 'Emil' }])

    // Any stored update, not only checkpoints.
    expect(await versionContent(viewer, firstSeq)).toBe('<paragraph>first version</paragraph>')
    expect(await versionContent(viewer, listed.lastSeq)).toBe(
      '<paragraph>second version</paragraph>',
    )
    expect(await versionContent(viewer, 0)).toBe('')

    // Restore while the editor keeps typing: a new edit everyone sees live.
    const typing = (async () => {
      for (let i = 0; i < 20; i++) {
        editorClient.doc.getText('notes').insert(0, `${i} `)
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const restored = await owner.call(
      'POST',
      `/api/documents/${docId}/versions/${firstSeq}/restore`,
    )
    await typing
    expect(restored.status).toBe(204)
    await waitUntil(
      () =>
        contentOf(ownerClient.doc) === '<paragraph>first version</paragraph>' &&
        contentOf(editorClient.doc) === contentOf(ownerClient.doc) &&
        editorClient.doc.getText('notes').length === ownerClient.doc.getText('notes').length,
      'the restore reaches both, alongside the concurrent typing',
    )
    expect(ownerClient.doc.getText('notes').toString()).toContain('19 ')

    // History was added to, not rewritten; the restore is the owner's edit.
    const after = await versions(owner)
    expect(after.lastSeq).toBeGreaterThan(listed.lastSeq)
    expect(await versionContent(owner, listed.lastSeq)).toBe(
      '<paragraph>second version</paragraph>',
    )
    const db = new pg.Client({ connectionString: server.databaseUrl as string })
    await db.connect()
    try {
      const { rows } = await db.query<{ userId: string | null }>(
        'SELECT user_id AS "userId" FROM updates WHERE doc_id = $1 ORDER BY seq DESC LIMIT 40',
        [docId],
      )
      expect(rows.map((row) => row.userId)).toContain(owner.userId)
    } finally {
      await db.end()
    }
    // The audit listing, for owners: each person's connections with their edits.
    const audit = await owner.call('GET', `/api/documents/${docId}/audit`)
    expect(audit.status).toBe(200)
    const { entries } = (await audit.json()) as {
      entries: {
        userId: string
        name: string
        sessionId: string | null
        connId: string | null
        updates: number
      }[]
    }
    expect(entries.map((entry) => entry.name).sort()).toEqual(
      expect.arrayContaining(['Emil', 'Hana']),
    )
    expect(entries.every((entry) => entry.updates >= 1)).toBe(true)
    // Edits typed through a socket name the sign-in session they came from.
    const sessionsDb = new pg.Client({ connectionString: server.databaseUrl as string })
    await sessionsDb.connect()
    try {
      const { rows } = await sessionsDb.query<{ id: string }>(
        'SELECT id FROM sessions WHERE user_id = $1',
        [editor.userId],
      )
      const typed = entries.filter((e) => e.userId === editor.userId && e.connId !== null)
      expect(typed.length).toBeGreaterThan(0)
      for (const entry of typed) expect(rows.map((row) => row.id)).toContain(entry.sessionId)
    } finally {
      await sessionsDb.end()
    }
    expect((await editor.call('GET', `/api/documents/${docId}/audit`)).status).toBe(403)
    for (const client of [ownerClient, editorClient]) client.provider.destroy()
  })

  it('checks roles and inputs like every document route', async () => {
    const stranger = await ApiUser.signUp(server.url, 'Stan')
    expect((await stranger.call('GET', `/api/documents/${docId}/versions`)).status).toBe(404)
    expect((await viewer.call('POST', `/api/documents/${docId}/versions/0/restore`)).status).toBe(
      403,
    )
    expect(
      (await viewer.call('POST', `/api/documents/${docId}/versions`, { name: 'mine' })).status,
    ).toBe(403)
    expect((await viewer.call('GET', `/api/documents/${docId}/versions/abc`)).status).toBe(400)
    expect((await viewer.call('GET', `/api/documents/${docId}/versions/999999`)).status).toBe(404)
    expect((await owner.call('GET', '/api/documents/bad%20id/versions')).status).toBe(400)
    expect(
      (await owner.call('POST', `/api/documents/${docId}/versions`, { name: '' })).status,
    ).toBe(400)
  })
})
