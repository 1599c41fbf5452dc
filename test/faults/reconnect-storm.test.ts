/**
 * A reconnect storm: 2,000 sockets open at once against one node (as after
 * a node restart behind a load balancer), each doing the sync handshake on
 * one of 20 documents. The node runs in its own process; it must absorb the
 * storm, every client synced, with its event loop never stalled past a
 * bound, read from its own /metrics (prom-client's
 * nodejs_eventloop_lag_max_seconds, reset at each scrape). The figures are
 * printed; the bounds are loose enough for a busy CI machine.
 */
import { randomUUID } from 'node:crypto'
import { encodeSyncStep1, MessageType, SyncMessageType } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { connectProvider } from '../support/clients.js'
import { inject } from 'vitest'
import { type ServerProcess, spawnServer } from '../support/servers.js'

const SOCKETS = 2_000
const DOCUMENTS = 20
const MAX_LAG_MS = 150
const MAX_STORM_MS = 30_000

/** Opens a socket, sends sync step 1, resolves once the server's step 2 arrives. */
const syncOnce = (url: string, step1: Uint8Array): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    const timer = setTimeout(() => reject(new Error('no sync step 2 in time')), MAX_STORM_MS)
    socket.binaryType = 'nodebuffer'
    socket.on('open', () => socket.send(step1))
    socket.on('message', (data: Buffer) => {
      if (data[0] === MessageType.Sync && data[1] === SyncMessageType.Step2) {
        clearTimeout(timer)
        resolve(socket)
      }
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })

/** The node's event-loop lag maximum since its previous scrape, ms. */
const scrapeMaxLagMs = async (server: ServerProcess): Promise<number> => {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)
  if (match?.[1] === undefined) throw new Error('no nodejs_eventloop_lag_max_seconds in /metrics')
  return Number(match[1]) * 1000
}

describe('a reconnect storm', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await spawnServer([
      '--database-url',
      inject('databaseUrl'),
      '--max-sockets-per-address',
      String(SOCKETS * 2),
    ])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it(`absorbs ${SOCKETS} sockets at once without stalling the event loop`, async () => {
    const docIds = Array.from({ length: DOCUMENTS }, () => `storm-${randomUUID().slice(0, 8)}`)
    // Each document holds some text, so every handshake carries a real state.
    for (const docId of docIds) {
      const seeder = await connectProvider(server.wsUrl, docId)
      seeder.doc.getText('text').insert(0, 'storm '.repeat(2_000))
      await new Promise((resolve) => setImmediate(resolve))
      seeder.destroy()
    }
    const step1 = encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))

    await scrapeMaxLagMs(server)
    const startedAt = performance.now()
    const sockets = await Promise.all(
      Array.from({ length: SOCKETS }, (_, i) =>
        syncOnce(`${server.wsUrl}/sync/${docIds[i % DOCUMENTS]}`, step1),
      ),
    )
    const stormMs = performance.now() - startedAt
    const maxLagMs = await scrapeMaxLagMs(server)
    console.log(
      `storm: ${SOCKETS} sockets synced in ${stormMs.toFixed(0)} ms; ` +
        `node event-loop lag max ${maxLagMs.toFixed(1)} ms`,
    )
    expect(sockets).toHaveLength(SOCKETS)
    expect(stormMs).toBeLessThan(MAX_STORM_MS)
    expect(maxLagMs).toBeLessThan(MAX_LAG_MS)
    for (const socket of sockets) socket.terminate()
  })
})
