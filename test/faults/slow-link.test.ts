/**
 * Field case F10: a large document loading over a slow link. The stock
 * y-websocket provider drops a connection that has received no message for
 * 30 s, so a state sent as one message that takes longer than that to
 * cross the link would make it reconnect forever. Quire streams a large
 * state to a fresh client in pieces of 256 KiB, paced by the link, so the
 * first sync completes in one connection. Here: about 5 MiB of document
 * through a proxy that delivers 1 Mbit/s (about 40 s in all).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { connectProvider } from '../support/clients.js'
import { type ServerProcess, spawnServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const DOCUMENT_BYTES = 5 * 1024 * 1024
const LINK_BYTES_PER_SECOND = 125_000 // 1 Mbit/s
const TICK_MS = 20

/**
 * A TCP proxy whose downstream (server to client) carries at most
 * `bytesPerSecond`, pushing back on the server when its queue fills, as a
 * slow link does. Upstream is not limited.
 */
const startSlowLink = async (
  target: { host: string; port: number },
  bytesPerSecond: number,
): Promise<{ port: number; close: () => Promise<void> }> => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    sockets.add(client).add(upstream)
    client.pipe(upstream)
    const queue: Buffer[] = []
    let queued = 0
    upstream.on('data', (chunk: Buffer) => {
      queue.push(chunk)
      queued += chunk.length
      if (queued > 256 * 1024) upstream.pause()
    })
    const perTick = Math.max(1, Math.round((bytesPerSecond * TICK_MS) / 1000))
    const timer = setInterval(() => {
      let budget = perTick
      while (budget > 0 && queue.length > 0) {
        const head = queue[0] as Buffer
        const part = head.subarray(0, budget)
        client.write(part)
        budget -= part.length
        queued -= part.length
        if (part.length === head.length) queue.shift()
        else queue[0] = head.subarray(part.length)
      }
      if (queued < 64 * 1024) upstream.resume()
    }, TICK_MS)
    const end = (): void => {
      clearInterval(timer)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** User plus system CPU time of process `pid` so far, ms (Linux /proc). */
const cpuTimeMs = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

describe('a large document over a slow link (F10)', () => {
  let server: ServerProcess
  beforeAll(async () => {
    server = await spawnServer([])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('completes the first sync in one connection, without a reconnect loop', async () => {
    const docId = `big-${randomUUID().slice(0, 8)}`
    // Written as many edits at scattered places, as a long-edited document is.
    const writer = await connectProvider(server.wsUrl, docId)
    const text = writer.doc.getText('text')
    const paragraph = 'A long document grows paragraph by paragraph over months of work. '.repeat(
      40,
    )
    while (text.length < DOCUMENT_BYTES) {
      text.insert(Math.floor(text.length / 3), paragraph)
      if (text.length % 7 === 0) text.delete(10, 5)
    }
    const expected = text.toString()
    await waitUntil(async () => {
      const probe = await connectProvider(server.wsUrl, docId)
      const length = probe.doc.getText('text').length
      probe.destroy()
      return length === expected.length
    }, 'the document to be on the server')
    writer.destroy()

    const url = new URL(server.url)
    const link = await startSlowLink(
      { host: url.hostname, port: Number(url.port) },
      LINK_BYTES_PER_SECOND,
    )
    const doc = new Y.Doc()
    const statuses: string[] = []
    const cpuBefore = cpuTimeMs(server.child.pid as number)
    const startedAt = performance.now()
    const provider = new WebsocketProvider(`ws://127.0.0.1:${link.port}/sync`, docId, doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    provider.on('status', ({ status }: { status: string }) => statuses.push(status))
    try {
      await waitUntil(() => provider.synced, 'the first sync over the slow link', 150_000, 100)
      const seconds = (performance.now() - startedAt) / 1000
      const cpuMs = cpuTimeMs(server.child.pid as number) - cpuBefore
      console.log(
        `F10: ${(Y.encodeStateAsUpdate(doc).length / 2 ** 20).toFixed(1)} MiB synced over ` +
          `1 Mbit/s in ${seconds.toFixed(1)} s, one connection; server CPU ${cpuMs.toFixed(0)} ms`,
      )
      expect(doc.getText('text').toString()).toBe(expected)
      expect(statuses.filter((status) => status === 'disconnected')).toEqual([])
      expect(statuses.filter((status) => status === 'connected')).toHaveLength(1)
      // Slower than the provider's 30 s silence limit: one message would not do.
      expect(seconds).toBeGreaterThan(30)
    } finally {
      provider.destroy()
      await link.close()
    }
  }, 200_000)
})
