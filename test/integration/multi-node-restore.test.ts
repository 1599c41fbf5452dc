/**
 * Restoring a version through two nodes at once (sharing PostgreSQL and
 * Redis): the restores are serialised by the document's advisory lock, and
 * the second starts from the stored state holding the first, so the
 * document holds the old content once, never twice.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const ORIGIN = 'http://quire.test'

const contentOf = (doc: Y.Doc): string => doc.getXmlFragment('default').toString()

describe('restores through two nodes at once', () => {
  let a: TestServer
  let b: TestServer
  beforeAll(async () => {
    const flags = {
      auth: 'required',
      publicOrigin: ORIGIN,
      jwtSecret: `secret-${randomUUID()}`,
      redisUrl: inject('redisUrl'),
      redisPrefix: `qt${randomUUID().slice(0, 8)}`,
    }
    a = await startTestServer({ store: 'postgres', flags })
    b = await startTestServer({ store: 'postgres', flags })
  })
  afterAll(async () => {
    await a?.dispose()
    await b?.dispose()
  })

  it('leaves one copy of the restored content, whichever node restores first', async () => {
    const onA = await ApiUser.signUp(a.url, 'Rita', ORIGIN)
    const onB = new ApiUser(b.url, onA.email, ORIGIN)
    for (const [name, value] of onA.cookies) onB.cookies.set(name, value)
    const docId = await onA.createDocument('Restored twice')
    const clientA = onA.connect(a.wsUrl, docId)
    const clientB = onB.connect(b.wsUrl, docId)
    await Promise.all([whenProviderSynced(clientA.provider), whenProviderSynced(clientB.provider)])
    const lastSeq = async (): Promise<number> => {
      const response = await onA.call('GET', `/api/documents/${docId}/versions`)
      return ((await response.json()) as { lastSeq: number }).lastSeq
    }

    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('original text')])
    clientA.doc.getXmlFragment('default').insert(0, [paragraph])
    const original = contentOf(clientA.doc)
    await waitUntil(async () => (await lastSeq()) > 0, 'the original stored')
    const version = await lastSeq()

    // Each round changes the text, then restores the version through both
    // nodes at the same moment; without the lock most rounds doubled it.
    for (let round = 0; round < 3; round++) {
      const before = await lastSeq()
      const text = clientA.doc.getXmlFragment('default').get(0) as Y.XmlElement
      ;(text.get(0) as Y.XmlText).insert(0, `changed ${round} `)
      await waitUntil(async () => (await lastSeq()) > before, `round ${round}: change stored`)
      await waitUntil(
        () => contentOf(clientB.doc) === contentOf(clientA.doc),
        `round ${round}: change on B`,
      )

      const restore = (user: ApiUser): Promise<number> =>
        user
          .call('POST', `/api/documents/${docId}/versions/${version}/restore`)
          .then((response) => response.status)
      expect(await Promise.all([restore(onA), restore(onB)])).toEqual([204, 204])

      await waitUntil(
        () => contentOf(clientA.doc) === original && contentOf(clientB.doc) === original,
        `round ${round}: both clients show the original once`,
        10_000,
      )
      const exported = await onA.call('GET', `/api/documents/${docId}/export?format=text`)
      expect(await exported.text()).toBe('original text')
    }

    clientA.provider.destroy()
    clientB.provider.destroy()
  })
})
