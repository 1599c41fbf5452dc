/**
 * Schema skew during a rolling deploy: an editor older than the document's
 * schema is refused before it can send anything, a newer one raises the
 * document's version for good, and clients that announce no version (tools,
 * plain providers) are not checked.
 */
import { randomUUID } from 'node:crypto'
import { CloseCode, encodeSyncUpdate, SCHEMA_VERSION_PARAM } from '@quire/protocol'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { connectProvider, RawClient } from '../support/clients.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'
import { nextEvent, waitUntil } from '../support/wait.js'

const newDocId = (): string => `skew-${randomUUID().slice(0, 8)}`

const openWithSchema = (server: TestServer, docId: string, version: string): Promise<RawClient> =>
  RawClient.open(server.wsUrl, docId, { params: { [SCHEMA_VERSION_PARAM]: version } })

/** An update inserting `text` at the start of the trace text. */
const insertion = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, text)
  return Y.encodeStateAsUpdate(doc)
}

const storedSchemaVersion = async (databaseUrl: string, docId: string): Promise<number | null> => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ v: number }>(
      'SELECT schema_version AS v FROM documents WHERE id = $1',
      [docId],
    )
    return rows[0]?.v ?? null
  } finally {
    await client.end()
  }
}

describe('document schema versions', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres' })
  })
  afterAll(async () => {
    await server.dispose()
  })

  it('closes older editors on the node when a newer one joins, and refuses them afterwards', async () => {
    const docId = newDocId()
    // A tool without a version: it stays connected throughout.
    const writer = await connectProvider(server.wsUrl, docId)
    writer.doc.getText('text').insert(0, 'kept')
    const old = await openWithSchema(server, docId, '1')

    const newer = await openWithSchema(server, docId, '2')
    expect(await old.closed).toEqual({
      code: CloseCode.ClientTooOld,
      reason: expect.stringContaining('newer version'),
    })
    expect(newer.closeCode).toBeNull()
    expect(await storedSchemaVersion(server.databaseUrl as string, docId)).toBe(2)

    // A version-1 editor arriving now is closed before any frame is read:
    // the deletion-free insertion it sends never reaches the document.
    const late = new WebSocket(`${server.wsUrl}/sync/${docId}?${SCHEMA_VERSION_PARAM}=1`)
    late.on('open', () => late.send(encodeSyncUpdate(insertion('LOST'))))
    const [code] = await nextEvent<[number, Buffer]>(late, 'close')
    expect(code).toBe(CloseCode.ClientTooOld)

    const observer = await connectProvider(server.wsUrl, docId)
    await waitUntil(
      () => observer.doc.getText('text').toString() === 'kept',
      'observer sees the stored text',
    )
    expect(observer.doc.getText('text').toString()).not.toContain('LOST')
    await waitUntil(
      async () => (await readStoredText(server.databaseUrl as string, docId)) === 'kept',
      'the text is stored',
    )
    for (const client of [writer, observer]) client.destroy()
    newer.close()
  })

  it('lets clients without a version in, and keeps equal and newer editors connected', async () => {
    const docId = newDocId()
    const plain = await connectProvider(server.wsUrl, docId)
    const current = await openWithSchema(server, docId, '1')
    const again = await openWithSchema(server, docId, '1')
    expect(current.closeCode).toBeNull()
    expect(again.closeCode).toBeNull()
    expect(plain.provider.wsconnected).toBe(true)
    plain.destroy()
    current.close()
    again.close()
  })

  it.each(['0', '-1', 'abc', '1.5', '99999999', ''])(
    'refuses the malformed version %j with 400 before the upgrade',
    async (version) => {
      const socket = new WebSocket(
        `${server.wsUrl}/sync/${newDocId()}?${SCHEMA_VERSION_PARAM}=${version}`,
      )
      const [, response] = await nextEvent<[unknown, { statusCode: number }]>(
        socket,
        'unexpected-response',
      )
      expect(response.statusCode).toBe(400)
      socket.on('error', () => undefined)
      socket.terminate()
    },
  )
})
