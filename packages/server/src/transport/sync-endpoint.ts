/**
 * The WebSocket endpoint `/sync/<documentId>`: validates the upgrade,
 * attaches a session before any frame can arrive, copies every frame before
 * it is decoded, and reaps sockets that stop answering pings.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { randomUUID } from 'node:crypto'
import { CloseCode, encodeKeepAlive, isDocumentId, SAVED_ACKS_PARAM } from '@quire/protocol'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../log/index.js'
import type { RoomManager } from '../room/index.js'
import { WebSocketPeer } from './websocket-peer.js'

/** Path prefix of the sync endpoint. */
export const SYNC_PATH_PREFIX = '/sync/'

/** Settings of the sync endpoint. */
export interface SyncEndpointOptions {
  /** Largest frame accepted; bigger ones close the socket with 1009. */
  readonly maxMessageBytes: number
  /** Ping period; a socket that missed the previous ping's pong is terminated. */
  readonly pingIntervalMs: number
  /** Bytes queued for one socket before it is closed as not reading. */
  readonly maxSendBufferBytes: number
}

/** A running sync endpoint. */
export interface SyncEndpoint {
  /** Number of open sockets. */
  readonly socketCount: number
  /** Stops accepting upgrades and stops the ping timer (sockets are closed by the rooms). */
  close(): Promise<void>
}

/** Attaches the sync endpoint to `server`'s upgrade event. */
export const attachSyncEndpoint = (
  server: Server,
  rooms: RoomManager,
  logger: Logger,
  options: SyncEndpointOptions,
): SyncEndpoint => {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    // Compression costs CPU per frame and opens the door to compression
    // side channels; Yjs updates are small and already compact.
    perMessageDeflate: false,
  })
  const peers = new Set<WebSocketPeer>()
  let isClosing = false

  const handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // The raw request target, not a parsed URL: WHATWG URL parsing removes
    // dot segments, so `/sync/x/../abc` would open `abc` behind the back of
    // a proxy that routed on the prefix.
    const target = request.url ?? '/'
    const queryStart = target.indexOf('?')
    const path = queryStart === -1 ? target : target.slice(0, queryStart)
    if (!path.startsWith(SYNC_PATH_PREFIX)) {
      rejectUpgrade(socket, 404, 'no WebSocket endpoint here')
      return
    }
    const docId = path.slice(SYNC_PATH_PREFIX.length)
    if (!isDocumentId(docId)) {
      rejectUpgrade(socket, 400, 'malformed document id')
      return
    }
    const query = new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1))
    if (isClosing) {
      rejectUpgrade(socket, 503, 'server restarting')
      return
    }
    const wantsSavedAcks = query.get(SAVED_ACKS_PARAM) === '1'
    wss.handleUpgrade(request, socket, head, (ws) => {
      const peer = new WebSocketPeer(
        ws,
        randomUUID(),
        null,
        wantsSavedAcks,
        options.maxSendBufferBytes,
        (bufferedBytes) => logger.warn({ docId, bufferedBytes }, 'socket not reading, closed'),
      )
      peers.add(peer)
      // The session exists before the first frame can be read, so frames
      // sent right after the handshake are held, not lost.
      const session = rooms.join(docId, peer)
      const log = logger.child({ docId, connId: peer.connId })
      log.info('socket opened')

      ws.on('message', (data: RawData, isBinary: boolean) => {
        peer.isAlive = true
        if (!isBinary) {
          session.fail(CloseCode.UnsupportedData, 'text frames are not supported')
          return
        }
        try {
          session.handleFrame(copyFrame(data))
        } catch (err) {
          // A bug, not the client's fault: it costs this socket, never the node.
          log.error({ err }, 'frame handling failed')
          session.fail(CloseCode.InternalError, 'internal error')
        }
      })
      ws.on('pong', () => {
        peer.isAlive = true
      })
      ws.on('error', (err) => {
        // ws reports protocol violations (oversized frames, bad opcodes)
        // here and closes the socket itself.
        log.info(
          { err: { message: err.message, code: (err as { code?: string }).code } },
          'socket error',
        )
      })
      ws.on('close', (code: number) => {
        peers.delete(peer)
        rooms.leave(session)
        log.info({ code }, 'socket closed')
      })
    })
  }

  const keepAlive = encodeKeepAlive()
  const pingTimer = setInterval(() => {
    for (const peer of peers) {
      if (!peer.isAlive) {
        // No pong since the last round: the client is gone without a close
        // frame. Terminating fires 'close', which removes its presence.
        peer.socket.terminate()
        continue
      }
      peer.isAlive = false
      peer.socket.ping()
      peer.send(keepAlive)
    }
  }, options.pingIntervalMs)
  pingTimer.unref()

  server.on('upgrade', handleUpgrade)

  return {
    get socketCount() {
      return peers.size
    },
    close: async () => {
      isClosing = true
      clearInterval(pingTimer)
      server.off('upgrade', handleUpgrade)
      for (const peer of peers) {
        if (peer.socket.readyState === WebSocket.OPEN)
          peer.close(CloseCode.ServiceRestart, 'server restarting')
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

/** Copies a frame out of ws's buffers: decoders must never see a shared buffer. */
const copyFrame = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  return new Uint8Array(data)
}

const rejectUpgrade = (socket: Duplex, status: number, message: string): void => {
  const reason =
    status === 400 ? 'Bad Request' : status === 404 ? 'Not Found' : 'Service Unavailable'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\nCache-Control: no-store\r\n\r\n${message}`,
  )
}
