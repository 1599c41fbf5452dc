import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import * as ws from 'ws'
import { WebSocket, WebSocketServer } from 'ws'
import { encodeBinaryFrame, sendBinary } from './binary-frame.js'

/** What ws itself writes for one unmasked binary message. */
const framedByWs = (payload: Uint8Array): Buffer => {
  const { Sender } = ws as unknown as {
    Sender: { frame: (data: Buffer, options: object) => Buffer[] }
  }
  const frame = Sender.frame(Buffer.from(payload), {
    fin: true,
    opcode: 2,
    mask: false,
    readOnly: false,
    rsv1: false,
  })
  return Buffer.concat(frame)
}

describe('encodeBinaryFrame', () => {
  it('builds the frame ws builds, for each length encoding', () => {
    for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 70_000]) {
      const payload = new Uint8Array(length).map((_, i) => i % 251)
      expect(encodeBinaryFrame(payload).equals(framedByWs(payload))).toBe(true)
    }
  })

  it('frames a view into a larger buffer by its own bytes only', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
    const frame = encodeBinaryFrame(backing.subarray(2, 5))
    expect([...frame]).toEqual([0x82, 3, 1, 2, 3])
  })
})

describe('sendBinary', () => {
  const servers: WebSocketServer[] = []
  afterEach(async () => {
    for (const server of servers.splice(0))
      await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('delivers one payload to several sockets, in order with ws sends', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
    servers.push(server)
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
    const accepted: WebSocket[] = []
    server.on('connection', (socket) => accepted.push(socket))
    const clients = [new WebSocket(url), new WebSocket(url), new WebSocket(url)]
    const received = clients.map(() => [] as number[][])
    clients.forEach((client, index) =>
      client.on('message', (data: Buffer) => received[index]?.push([...data])),
    )
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('open', resolve))))
    while (accepted.length < clients.length) await new Promise((r) => setTimeout(r, 5))

    const shared = new Uint8Array([1, 2, 3])
    const large = new Uint8Array(100_000).fill(7)
    for (const socket of accepted) sendBinary(socket, shared)
    for (const socket of accepted) socket.send(new Uint8Array([4]))
    for (const socket of accepted) sendBinary(socket, large)
    for (const socket of accepted) sendBinary(socket, new Uint8Array([5, 6]))
    while (received.some((messages) => messages.length < 4))
      await new Promise((r) => setTimeout(r, 5))

    for (const messages of received) {
      expect(messages[0]).toEqual([1, 2, 3])
      expect(messages[1]).toEqual([4])
      expect(messages[2]?.length).toBe(100_000)
      expect(messages[3]).toEqual([5, 6])
    }
    for (const client of clients) client.terminate()
  })
})
