/**
 * /metrics in Prometheus text format: the node's own gauges read live
 * values, the histograms fill as edits flow (within a node, across nodes
 * and into the database), and closes are counted by reason.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectProvider, RawClient } from '../support/clients.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (): string => `metrics-${randomUUID().slice(0, 8)}`

/** Scrapes `server` and returns the samples by name with labels, e.g. `a_total{reason="x"}`. */
const scrape = async (server: TestServer): Promise<Map<string, number>> => {
  const response = await fetch(`${server.url}/metrics`)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    samples.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return samples
}

describe('metrics', () => {
  const prefix = `qm${randomUUID().slice(0, 8)}`
  let a: TestServer
  let b: TestServer
  beforeAll(async () => {
    const flags = { redisUrl: inject('redisUrl'), redisPrefix: prefix }
    a = await startTestServer({ store: 'postgres', flags })
    b = await startTestServer({ store: 'postgres', flags })
  })
  afterAll(async () => {
    await a.dispose()
    await b.dispose()
  })

  it('reports sockets, documents and the latencies of edits within and across nodes', async () => {
    const docId = newDocId()
    const writer = await connectProvider(a.wsUrl, docId)
    const sameNode = await connectProvider(a.wsUrl, docId)
    const otherNode = await connectProvider(b.wsUrl, docId)
    writer.doc.getText('text').insert(0, 'measured')
    await waitUntil(
      () => otherNode.doc.getText('text').toString() === 'measured',
      'the edit reaches the other node',
    )
    await waitUntil(
      async () => ((await scrape(a)).get('quire_database_batch_updates_count') ?? 0) > 0,
      'a batch is committed',
    )

    const onA = await scrape(a)
    expect(onA.get('quire_open_sockets')).toBe(2)
    expect(onA.get('quire_open_documents')).toBe(1)
    expect(onA.get('quire_fanout_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(onA.get('quire_database_write_seconds_count')).toBeGreaterThanOrEqual(1)
    expect(onA.has('quire_persist_queue_depth')).toBe(true)
    expect(onA.get('quire_stream_backlog')).toBeGreaterThanOrEqual(0)
    // Default process metrics, event-loop lag among them.
    expect(onA.has('nodejs_eventloop_lag_p99_seconds')).toBe(true)
    expect(onA.has('process_resident_memory_bytes')).toBe(true)

    const onB = await scrape(b)
    expect(onB.get('quire_open_sockets')).toBe(1)
    expect(onB.get('quire_cross_node_seconds_count')).toBeGreaterThanOrEqual(1)

    for (const client of [writer, sameNode, otherNode]) client.destroy()
    await waitUntil(
      async () => (await scrape(a)).get('quire_open_sockets') === 0,
      'closed sockets leave the gauge',
    )
  })

  it('counts closes by reason, with a fixed set of labels', async () => {
    const before =
      (await scrape(a)).get('quire_socket_closes_total{reason="malformed_message"}') ?? 0
    const client = await RawClient.open(a.wsUrl, newDocId())
    client.send(new Uint8Array([0, 7, 1]))
    expect((await client.closed).code).toBe(4400)
    await waitUntil(
      async () =>
        (await scrape(a)).get('quire_socket_closes_total{reason="malformed_message"}') ===
        before + 1,
      'the malformed message is counted',
    )
  })
})
