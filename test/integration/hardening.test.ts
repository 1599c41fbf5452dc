/**
 * Cases found by adversarial testing, kept as tests: a deeply nested
 * presence state, a client that never reads, two processes on one embedded
 * data folder, and an update parked on one node whose dependency arrives
 * from another node.
 */
import { randomUUID } from 'node:crypto'
import * as encoding from 'lib0/encoding'
import {
  CloseCode,
  decodeQuireMessage,
  encodeAwarenessMessage,
  encodeSyncStep1,
  encodeSyncUpdate,
} from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, RawClient } from '../support/clients.js'
import { makeTempDir, startTestServer, type TestServer } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

describe('hardening on one node', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ store: 'embedded', flags: { maxSendBufferBytes: '65536' } })
  })
  afterAll(() => server.dispose())

  it('closes a socket whose presence state is nested thousands deep, and stays up (RELAY-3)', async () => {
    const docId = newDocId('deep')
    const watcher = await connectProvider(server.wsUrl, docId)
    const entry = encoding.createEncoder()
    encoding.writeVarUint(entry, 1)
    encoding.writeVarUint(entry, 5151)
    encoding.writeVarUint(entry, 1)
    encoding.writeVarString(entry, `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`)
    const attacker = await RawClient.open(server.wsUrl, docId)
    attacker.send(encodeAwarenessMessage(encoding.toUint8Array(entry)))
    expect((await attacker.closed).code).toBe(CloseCode.MalformedMessage)
    watcher.doc.getText('text').insert(0, 'still here')
    const reader = await connectProvider(server.wsUrl, docId)
    await waitUntil(
      () => reader.doc.getText('text').toString() === 'still here',
      'node still serving',
    )
    watcher.destroy()
    reader.destroy()
  })

  it('closes a socket that does not read once its send buffer is full (CONN-6)', async () => {
    const docId = newDocId('slow')
    const writer = await connectProvider(server.wsUrl, docId)
    writer.doc.getText('text').insert(0, 'x'.repeat(200_000))
    const slow = await RawClient.open(server.wsUrl, docId)
    // Stop reading, then keep asking for the whole document.
    ;(slow.socket as unknown as { _socket: { pause(): void } })._socket.pause()
    for (let i = 0; i < 200; i++) slow.send(encodeSyncStep1(new Uint8Array([0])))
    await waitUntil(
      () => server.logs.withMessage('socket not reading, closed').some((l) => l.docId === docId),
      'slow socket closed',
      10_000,
    )
    slow.socket.terminate()
    writer.destroy()
  })

  it('refuses a second server on the same embedded data folder', async () => {
    const dir = await makeTempDir('locked')
    const first = await startTestServer({ store: 'embedded', dataDir: dir.path })
    await expect(startTestServer({ store: 'embedded', dataDir: dir.path })).rejects.toThrow(
      /already open|in use/,
    )
    await first.close()
    const again = await startTestServer({ store: 'embedded', dataDir: dir.path })
    await again.close()
    await dir.remove()
  })
})

describe('an update parked on one node whose dependency arrives from another (BUS-3, SAVE-3)', () => {
  it('stores the parked update and only then acknowledges it', async () => {
    const flags = { redisUrl: inject('redisUrl'), redisPrefix: `qh${randomUUID().slice(0, 8)}` }
    const x = await startTestServer({ store: 'postgres', flags })
    const y = await startTestServer({ store: 'postgres', flags })
    const docId = newDocId('parked')
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (update: Uint8Array) => updates.push(update))
    source.getText('text').insert(0, 'hello')
    source.getText('text').insert(5, ' world')
    const [u1, u2] = updates as [Uint8Array, Uint8Array]

    const onX = await RawClient.open(x.wsUrl, docId, { saved: true })
    onX.send(encodeSyncUpdate(u2)) // depends on u1, which X does not have
    const onY = await RawClient.open(y.wsUrl, docId, { saved: true })
    onY.send(encodeSyncUpdate(u1))
    const saved = (client: RawClient): number =>
      Math.max(0, ...client.received.map((f) => decodeQuireMessage(f)?.count ?? 0))
    await waitUntil(() => saved(onY) === 1 && saved(onX) === 1, 'both acknowledged', 10_000)
    expect(await readStoredText(inject('databaseUrl'), docId)).toBe('hello world')
    onX.close()
    onY.close()
    await x.dispose()
    await y.dispose()
  })
})
