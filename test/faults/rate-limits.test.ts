/**
 * Rate limits as backpressure: a client flooding edits is slowed by the
 * node no longer reading its socket, never by dropped updates, so every
 * edit it sent is stored and converges; meanwhile another person's edits
 * on another document keep flowing within a latency bound.
 */
import { randomUUID } from 'node:crypto'
import { encodeSyncUpdate } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connectProvider, RawClient } from '../support/clients.js'
import { captureUpdates, waitForSaved } from '../support/frames.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const FLOOD_EDITS = 1500
const RATE = 300
/** The bound asserted on the other document's edit latency while the flood runs, ms. */
const OTHER_DOCUMENT_LATENCY_BOUND_MS = 250

describe('rate limits', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { rateLimitMessagesPerS: String(RATE) },
    })
  })
  afterAll(async () => {
    await server.dispose()
  })

  it('slow a flooding client without dropping an edit, and leave other documents responsive', async () => {
    const floodDoc = `flood-${randomUUID().slice(0, 8)}`
    const source = new Y.Doc()
    const text = source.getText('text')
    const updates = captureUpdates(source, () => {
      for (let i = 0; i < FLOOD_EDITS; i++) text.insert(i, String.fromCharCode(97 + (i % 26)))
    })
    const flooder = await RawClient.open(server.wsUrl, floodDoc, { saved: true })

    const quietDoc = `quiet-${randomUUID().slice(0, 8)}`
    const writer = await connectProvider(server.wsUrl, quietDoc)
    const reader = await connectProvider(server.wsUrl, quietDoc)

    const startedAt = performance.now()
    for (const update of updates) flooder.send(encodeSyncUpdate(update))

    // While the flood is being absorbed, time edits on the other document.
    const latencies: number[] = []
    let floodDone = false
    const flood = waitForSaved(flooder, FLOOD_EDITS, 60_000).then(() => {
      floodDone = true
    })
    for (let i = 0; i < 20 && !floodDone; i++) {
      const sentAt = performance.now()
      writer.doc.getText('text').insert(0, 'x')
      const expected = writer.doc.getText('text').toString()
      await waitUntil(
        () => reader.doc.getText('text').toString() === expected,
        'quiet edit',
        5_000,
        1,
      )
      latencies.push(performance.now() - sentAt)
    }
    await flood
    const floodMs = performance.now() - startedAt

    // Paused, not dropped: the flood took at least as long as the budget
    // allows (its burst of 2 × RATE aside), and every edit is there.
    expect(floodMs).toBeGreaterThan(((FLOOD_EDITS - 2 * RATE) / RATE) * 1000 * 0.8)
    const fresh = await connectProvider(server.wsUrl, floodDoc)
    expect(fresh.doc.getText('text').toString()).toBe(text.toString())
    expect(flooder.closeCode).toBeNull()

    expect(latencies.length).toBeGreaterThanOrEqual(5)
    expect(Math.max(...latencies)).toBeLessThan(OTHER_DOCUMENT_LATENCY_BOUND_MS)

    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/quire_rate_limited_total\{limit="connection_messages"\} [1-9]/)

    for (const client of [writer, reader, fresh]) client.destroy()
    flooder.close()
  })
})
