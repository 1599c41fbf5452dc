/**
 * Attribution and diffs through the API: two people edit one paragraph
 * through real sockets; the changes of a version name who wrote each run,
 * and against an earlier version mark what was added and deleted, by whom.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

interface ChangeAttrs {
  kind: 'kept' | 'added' | 'deleted'
  author: string | null
  at: string | null
  deletedBy: string | null
  deletedAt: string | null
}
interface PmNode {
  type: string
  text?: string
  content?: PmNode[]
  marks?: { type: string; attrs?: ChangeAttrs }[]
}
interface Changes {
  seq: number
  since: number | null
  attributedFrom: number
  authors: { id: string; name: string | null }[]
  doc: PmNode
  addedChars: number
  deletedChars: number
}

/** [text, kind, author, deletedBy] per text run, in document order. */
const runsOf = (node: PmNode): [string, string, string | null, string | null][] => {
  if (node.type !== 'text') return (node.content ?? []).flatMap(runsOf)
  const attrs = node.marks?.find((mark) => mark.type === 'change')?.attrs as ChangeAttrs
  return [[node.text ?? '', attrs.kind, attrs.author, attrs.deletedBy]]
}

const textOf = (doc: Y.Doc): Y.XmlText =>
  (doc.getXmlFragment('default').get(0) as Y.XmlElement).get(0) as Y.XmlText

describe('changes and attribution of versions', () => {
  let server: TestServer
  let owner: ApiUser
  let editor: ApiUser
  let docId: string

  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres', flags: { auth: 'required' } })
    owner = await ApiUser.signUp(server.url, 'Hana')
    editor = await ApiUser.signUp(server.url, 'Emil')
    docId = await owner.createDocument('Attributed')
    await owner.call('PUT', `/api/orgs/${owner.orgId}/members`, {
      email: editor.email,
      role: 'member',
    })
    await owner.call('PUT', `/api/documents/${docId}/members`, {
      email: editor.email,
      role: 'editor',
    })
  })
  afterAll(async () => {
    await server.dispose()
  })

  const lastSeq = async (): Promise<number> => {
    const response = await owner.call('GET', `/api/documents/${docId}/versions`)
    return ((await response.json()) as { lastSeq: number }).lastSeq
  }

  const changes = async (user: ApiUser, seq: number, since?: number): Promise<Changes> => {
    const query = since === undefined ? '' : `?since=${since}`
    const response = await user.call(
      'GET',
      `/api/documents/${docId}/versions/${seq}/changes${query}`,
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    return (await response.json()) as Changes
  }

  it('names who wrote each run, and marks what was added and deleted since a version', async () => {
    const ownerClient = owner.connect(server.wsUrl, docId)
    const editorClient = editor.connect(server.wsUrl, docId)
    await Promise.all([
      whenProviderSynced(ownerClient.provider),
      whenProviderSynced(editorClient.provider),
    ])

    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('Hello world')])
    ownerClient.doc.getXmlFragment('default').insert(0, [paragraph])
    await waitUntil(async () => (await lastSeq()) >= 1, "the owner's paragraph stored")
    const first = await lastSeq()
    await waitUntil(() => editorClient.doc.getXmlFragment('default').length === 1, 'it arrives')

    // The editor adds a word and deletes the owner's, in two updates.
    textOf(editorClient.doc).insert(5, ', dear')
    textOf(editorClient.doc).delete(11, 6)
    await waitUntil(async () => (await lastSeq()) >= first + 2, "the editor's edits stored")
    const second = await lastSeq()

    const attributed = await changes(editor, second)
    expect(runsOf(attributed.doc)).toEqual([
      ['Hello', 'kept', owner.userId, null],
      [', dear', 'kept', editor.userId, null],
    ])
    expect(attributed.attributedFrom).toBe(0)
    expect(attributed.authors).toEqual(
      expect.arrayContaining([
        { id: owner.userId, name: 'Hana' },
        { id: editor.userId, name: 'Emil' },
      ]),
    )

    const diff = await changes(owner, second, first)
    expect(runsOf(diff.doc)).toEqual([
      ['Hello', 'kept', owner.userId, null],
      [', dear', 'added', editor.userId, null],
      [' world', 'deleted', owner.userId, editor.userId],
    ])
    expect(diff.doc.content?.[0]?.type).toBe('paragraph')
    expect([diff.since, diff.addedChars, diff.deletedChars]).toEqual([first, 6, 6])
    const deleted = diff.doc.content?.[0]?.content?.[2]?.marks?.[0]?.attrs as ChangeAttrs
    expect(Number.isNaN(Date.parse(deleted.deletedAt ?? ''))).toBe(false)

    // The first version alone holds the owner's text only.
    expect(runsOf((await changes(owner, first)).doc)).toEqual([
      ['Hello world', 'kept', owner.userId, null],
    ])
    for (const client of [ownerClient, editorClient]) client.provider.destroy()
  })

  it('checks access and inputs', async () => {
    const stranger = await ApiUser.signUp(server.url, 'Stan')
    const path = `/api/documents/${docId}/versions`
    expect((await stranger.call('GET', `${path}/1/changes`)).status).toBe(404)
    expect((await owner.call('GET', `${path}/1/changes?since=1`)).status).toBe(400)
    expect((await owner.call('GET', `${path}/1/changes?since=x`)).status).toBe(400)
    expect((await owner.call('GET', `${path}/999999/changes`)).status).toBe(404)
  })
})
