/**
 * WebSocket upgrades below the level of a WebSocket library: to see the HTTP
 * status of a refused upgrade for a path no client library would send as is,
 * and to put a first frame in the same TCP write as the upgrade request, so
 * it reaches the server before any handler could be attached.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'

const upgradeHeaders = (): Record<string, string> => ({
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
})

/**
 * Asks for a WebSocket upgrade of `path`, sent byte for byte (no URL
 * normalisation), and resolves with the HTTP status: 101 when accepted.
 */
export const requestUpgradeStatus = (httpUrl: string, path: string): Promise<number> => {
  const { hostname, port } = new URL(httpUrl)
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers: upgradeHeaders() })
    req.on('upgrade', (_response, socket: Socket) => {
      socket.destroy()
      resolve(101)
    })
    req.on('response', (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    req.on('error', reject)
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer to the upgrade of ${path}`)))
    req.end()
  })
}

/** Encodes one masked binary frame, as a client must send it (RFC 6455 §5.3). */
export const encodeClientFrame = (payload: Uint8Array): Buffer => {
  const length = payload.length
  const header =
    length < 126
      ? Buffer.from([0x82, 0x80 | length])
      : length < 65_536
        ? Buffer.from([0x82, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x82, 0x80 | 127]), bigEndian64(length)])
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] as number)))
  return Buffer.concat([header, mask, masked])
}

const bigEndian64 = (value: number): Buffer => {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(value))
  return bytes
}

/** A socket opened by `openWithFirstFrame`: the binary frames the server sent so far. */
export interface EarlySocket {
  readonly status: Promise<number>
  readonly frames: Uint8Array[]
  destroy(): void
}

/**
 * Writes the upgrade request for `path` and `firstFrame` in one TCP write,
 * then collects the server's binary frames. Control frames are skipped.
 */
export const openWithFirstFrame = (
  httpUrl: string,
  path: string,
  firstFrame: Uint8Array,
): EarlySocket => {
  const { hostname, port } = new URL(httpUrl)
  const socket = connect({ host: hostname, port: Number(port) })
  const frames: Uint8Array[] = []
  let buffered: Buffer = Buffer.alloc(0)
  let isUpgraded = false
  let resolveStatus: (status: number) => void = () => undefined
  const status = new Promise<number>((resolve) => (resolveStatus = resolve))

  const headers = Object.entries({ Host: `${hostname}:${port}`, ...upgradeHeaders() })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  socket.on('connect', () => {
    const head = Buffer.from(`GET ${path} HTTP/1.1\r\n${headers}\r\n`, 'latin1')
    socket.write(Buffer.concat([head, encodeClientFrame(firstFrame)]))
  })
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    if (!isUpgraded) {
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) return
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1')
      resolveStatus(Number(statusLine.split(' ')[1]))
      isUpgraded = true
      buffered = buffered.subarray(end + 4)
    }
    buffered = readServerFrames(buffered, frames)
  })
  socket.on('error', () => resolveStatus(0))
  socket.on('close', () => resolveStatus(0))
  return { status, frames, destroy: () => socket.destroy() }
}

/** Moves every complete unmasked frame out of `buffered`; returns what is left. */
const readServerFrames = (buffered: Buffer, frames: Uint8Array[]): Buffer => {
  for (;;) {
    if (buffered.length < 2) return buffered
    const opcode = (buffered[0] as number) & 0x0f
    const shortLength = (buffered[1] as number) & 0x7f
    const headerLength = shortLength === 126 ? 4 : shortLength === 127 ? 10 : 2
    if (buffered.length < headerLength) return buffered
    const length =
      shortLength === 126
        ? buffered.readUInt16BE(2)
        : shortLength === 127
          ? Number(buffered.readBigUInt64BE(2))
          : shortLength
    if (buffered.length < headerLength + length) return buffered
    const payload = buffered.subarray(headerLength, headerLength + length)
    if (opcode === 0x2) frames.push(new Uint8Array(payload))
    buffered = buffered.subarray(headerLength + length)
  }
}
