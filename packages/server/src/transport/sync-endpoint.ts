/**
 * The WebSocket endpoint `/sync/<documentId>`: validates the upgrade,
 * attaches a session before any frame can arrive, copies every frame before
 * it is decoded, and reaps sockets that stop answering pings.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { randomUUID } from 'node:crypto'
import {
  CloseCode,
  encodeKeepAlive,
  isDocumentId,
  parseSchemaVersionParam,
  SAVED_ACKS_PARAM,
  SCHEMA_VERSION_PARAM,
} from '@quire/protocol'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../log/index.js'
import {
  canEdit,
  type DocumentRole,
  type SocketIdentity,
  type UpgradeAuthorizer,
  type UpgradeDecision,
} from '../auth/index.js'
import type { RoomManager, Session } from '../room/index.js'
import {
  chargeMessage,
  type ConnectionBudget,
  connectionBudget,
  DocumentBudgets,
  type ReadThrottleLimits,
  type ThrottleReason,
} from './read-throttle.js'
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
  /** Decides each upgrade before any frame is read (Origin, session, role). */
  readonly authorize: UpgradeAuthorizer
  /** Open sockets one user may hold on this node. */
  readonly maxSocketsPerUser: number
  /** Open sockets one client address may hold on this node. */
  readonly maxSocketsPerAddress: number
  /**
   * Admits a client's document schema version: raises the document's
   * version when the client's is newer and resolves with the document's
   * version afterwards. Clients that announce no version are not checked.
   */
  readonly admitSchema: (docId: string, clientVersion: number) => Promise<number>
  /** Told the close code of every socket that closes (metrics). */
  readonly onSocketClosed?: (code: number) => void
  /** Rate limits, applied by pausing reads (see read-throttle.ts). */
  readonly throttle: ReadThrottleLimits
  /**
   * Whether the node holds more unsaved edits than it should (a stalled
   * database): sockets stop being read until it is false again.
   */
  readonly isOverloaded?: () => boolean
  /** Told each time a socket's reading is paused, and why (metrics). */
  readonly onThrottled?: (reason: ThrottleReason | 'persist_queue') => void
}

/**
 * Upgrades handled per event-loop turn. A reconnect storm (thousands of
 * sockets at once, after a node restart) would otherwise be handled in one
 * stretch of I/O callbacks while timers, pings and other documents wait;
 * paced, each turn does a bounded amount of handshake work.
 */
const UPGRADES_PER_TURN = 16
/** Upgrades waiting for their turn past which new ones are refused with 503. */
const MAX_WAITING_UPGRADES = 20_000

/** How often a socket paused for an overloaded node checks again, ms. */
const OVERLOAD_RECHECK_MS = 100

/** What a client older than its document's schema is told. */
export const CLIENT_TOO_OLD_REASON = 'a newer version of Quire is available; reload the page'

/** A running sync endpoint. */
export interface SyncEndpoint {
  /** Number of open sockets. */
  readonly socketCount: number
  /** Number of open sockets whose reading is paused (rate limits, overload). */
  readonly pausedCount: number
  /** Closes every socket of a session that ended (sign-out, password change, reuse). */
  closeSession(sessionId: string): void
  /**
   * Re-checks the role of open sockets after an access change: of `userId`
   * on `docId` (`'*'`: on every document; `userId` null: everyone on it).
   * Sockets that lost access are closed; the others follow their new role.
   */
  recheckAccess(
    docId: string,
    userId: string | null,
    roleOf: (docId: string, userId: string) => Promise<DocumentRole | null>,
  ): Promise<void>
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
  const sessionsByPeer = new Map<
    WebSocketPeer,
    { docId: string; session: Session; schemaVersion: number | null }
  >()
  const socketsPerUser = new Map<string, number>()
  const socketsPerAddress = new Map<string, number>()
  const documentBudgets = new DocumentBudgets(options.throttle.documentMessagesPerSecond)
  const connections: ConnectionContext = {
    options,
    logger,
    rooms,
    documentBudgets,
    peers,
    sessionsByPeer,
    socketsPerAddress,
    socketsPerUser,
    pausedCount: 0,
  }
  const reportSlowConsumer = (bufferedBytes: number, peer: WebSocketPeer): void =>
    logger.warn(
      { docId: sessionsByPeer.get(peer)?.docId, bufferedBytes },
      'socket not reading, closed',
    )
  let isClosing = false
  const waitingUpgrades: (() => void)[] = []
  let nextUpgrade = 0
  let isPacing = false
  const runUpgradeTurn = (): void => {
    const end = Math.min(nextUpgrade + UPGRADES_PER_TURN, waitingUpgrades.length)
    while (nextUpgrade < end) {
      const upgrade = waitingUpgrades[nextUpgrade] as () => void
      waitingUpgrades[nextUpgrade++] = noop
      upgrade()
    }
    if (nextUpgrade < waitingUpgrades.length) {
      setImmediate(runUpgradeTurn)
      return
    }
    waitingUpgrades.length = 0
    nextUpgrade = 0
    isPacing = false
  }
  /** Queues `upgrade` for a later turn; false when too many are waiting already. */
  const pace = (upgrade: () => void): boolean => {
    if (waitingUpgrades.length - nextUpgrade >= MAX_WAITING_UPGRADES) return false
    waitingUpgrades.push(upgrade)
    if (!isPacing) {
      isPacing = true
      setImmediate(runUpgradeTurn)
    }
    return true
  }

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
    const schemaVersion = parseSchemaVersionParam(query.get(SCHEMA_VERSION_PARAM))
    if (schemaVersion === undefined) {
      rejectUpgrade(socket, 400, 'malformed schema version')
      return
    }
    const address = request.socket.remoteAddress ?? 'unknown'
    if ((socketsPerAddress.get(address) ?? 0) >= options.maxSocketsPerAddress) {
      rejectUpgrade(socket, 429, 'too many connections from this address')
      return
    }
    const admitted = pace(() => {
      if (socket.destroyed || isClosing) {
        rejectUpgrade(socket, 503, 'server restarting')
        return
      }
      // Checked again: sockets accepted while this one waited count too.
      if ((socketsPerAddress.get(address) ?? 0) >= options.maxSocketsPerAddress) {
        rejectUpgrade(socket, 429, 'too many connections from this address')
        return
      }
      decide(request, socket, head, docId, schemaVersion, wantsSavedAcks, address)
    })
    if (!admitted) rejectUpgrade(socket, 503, 'too many connections at once; retry')
  }

  const decide = (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    docId: string,
    schemaVersion: number | null,
    wantsSavedAcks: boolean,
    address: string,
  ): void => {
    // Nothing is read from the socket until the decision: a client that
    // sends frames early waits (TCP), and none can arrive before the 101.
    authorizeAndAdmit(request, docId, schemaVersion).then(
      ({ decision, documentSchema }) => {
        if (!decision.ok) {
          rejectUpgrade(socket, decision.status, decision.reason)
          return
        }
        const identity = decision.identity
        if (
          identity !== null &&
          (socketsPerUser.get(identity.userId) ?? 0) >= options.maxSocketsPerUser
        ) {
          rejectUpgrade(socket, 429, 'too many connections for this user')
          return
        }
        // Checked again here, in the same turn as the handshake and the
        // count: concurrent upgrades from one address cannot all pass.
        if ((socketsPerAddress.get(address) ?? 0) >= options.maxSocketsPerAddress) {
          rejectUpgrade(socket, 429, 'too many connections from this address')
          return
        }
        if (socket.destroyed) return
        if (schemaVersion !== null && documentSchema > schemaVersion) {
          // Answered as a close, not an HTTP refusal: a browser sees the
          // code of a close, but only "1006" for a refused upgrade. No frame
          // is read, so nothing this client sends can reach the document.
          wss.handleUpgrade(request, socket, head, (ws) => {
            ws.close(CloseCode.ClientTooOld, CLIENT_TOO_OLD_REASON)
          })
          return
        }
        if (schemaVersion !== null) refuseOlderClients(docId, schemaVersion)
        wss.handleUpgrade(request, socket, head, (ws) => {
          const session = accept(ws, docId, identity, wantsSavedAcks, address, schemaVersion)
          if (identity === null) return
          // A revocation or role change announced while the decision was
          // being made found no socket to close; decide once more now that
          // the socket is registered and will hear the next one.
          options.authorize(request.headers, docId).then(
            (again) => {
              if (!again.ok) {
                const code = again.status === 404 ? CloseCode.NotFound : CloseCode.Unauthorized
                session.fail(code, again.reason)
              } else if (!canEdit(again.identity?.role ?? 'viewer')) {
                session.setCanWrite(false)
              }
            },
            () => session.fail(CloseCode.Unavailable, 'try again later'),
          )
        })
      },
      (err: unknown) => {
        logger.error({ err, docId }, 'upgrade authorization failed')
        rejectUpgrade(socket, 503, 'try again later')
      },
    )
  }

  const authorizeAndAdmit = async (
    request: IncomingMessage,
    docId: string,
    schemaVersion: number | null,
  ): Promise<{ decision: UpgradeDecision; documentSchema: number }> => {
    const decision = await options.authorize(request.headers, docId)
    // Only an authorized client may raise a document's schema version.
    if (!decision.ok || schemaVersion === null) return { decision, documentSchema: 0 }
    return { decision, documentSchema: await options.admitSchema(docId, schemaVersion) }
  }

  /**
   * A client just raised `docId`'s schema to `version`: sockets of older
   * editors on this node are closed before they can drop what it writes.
   * Known limit: older editors on other nodes are refused at their next
   * connect (a rolling deploy reconnects every socket), not at once.
   */
  const refuseOlderClients = (docId: string, version: number): void => {
    for (const entry of sessionsByPeer.values()) {
      if (entry.docId !== docId || entry.schemaVersion === null) continue
      if (entry.schemaVersion < version)
        entry.session.fail(CloseCode.ClientTooOld, CLIENT_TOO_OLD_REASON)
    }
  }

  const accept = (
    ws: WebSocket,
    docId: string,
    identity: SocketIdentity | null,
    wantsSavedAcks: boolean,
    address: string,
    schemaVersion: number | null,
  ): Session => {
    const peer = new WebSocketPeer(ws, {
      connId: randomUUID(),
      userId: identity?.userId ?? null,
      userName: identity?.name ?? null,
      sessionId: identity?.sessionId ?? null,
      wantsSavedAcks,
      maxSendBufferBytes: options.maxSendBufferBytes,
      onSlowConsumer: reportSlowConsumer,
    })
    peers.add(peer)
    increment(socketsPerAddress, address, 1)
    if (identity !== null) increment(socketsPerUser, identity.userId, 1)
    // The session exists before the first frame can be read, so frames
    // sent right after the handshake are held, not lost.
    const session = rooms.join(docId, peer, {
      canWrite: identity === null || canEdit(identity.role),
    })
    sessionsByPeer.set(peer, { docId, session, schemaVersion })
    // Kept alive by its listeners on the socket.
    new Connection(connections, ws, peer, session, docId, address, identity)
    return session
  }

  const keepAlive = encodeKeepAlive()
  const pingTimer = setInterval(() => {
    for (const peer of peers) {
      // A paused socket is not read, so its pongs wait unread in the
      // kernel: it is alive as far as anyone can tell.
      if (peer.isPaused) peer.isAlive = true
      // Gone only after two rounds in a row with nothing heard (no pong, no
      // message): over a slow link a ping can wait behind megabytes of
      // state for longer than a round, while the client's presence renewals
      // (every 15 s from y-websocket's provider) still come through.
      peer.missedRounds = peer.isAlive ? 0 : peer.missedRounds + 1
      if (peer.missedRounds >= 2) {
        // Terminating fires 'close', which removes its presence.
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
    get pausedCount() {
      return connections.pausedCount
    },
    closeSession: (sessionId) => {
      for (const [peer, { session }] of sessionsByPeer) {
        if (peer.sessionId === sessionId)
          session.fail(CloseCode.Unauthorized, 'session ended; sign in again')
      }
    },
    recheckAccess: async (docId, userId, roleOf) => {
      for (const [peer, { docId: peerDocId, session }] of [...sessionsByPeer]) {
        if (peer.userId === null) continue
        if (docId !== '*' && peerDocId !== docId) continue
        if (userId !== null && peer.userId !== userId) continue
        const role = await roleOf(peerDocId, peer.userId)
        if (role === null)
          session.fail(CloseCode.NotFound, 'you no longer have access to this document')
        else session.setCanWrite(canEdit(role))
      }
    },
    close: async () => {
      isClosing = true
      clearInterval(pingTimer)
      documentBudgets.close()
      server.off('upgrade', handleUpgrade)
      for (const peer of peers) {
        if (peer.socket.readyState === WebSocket.OPEN)
          peer.close(CloseCode.ServiceRestart, 'server restarting')
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}

const noop = (): void => undefined

/** What every connection of one endpoint shares. */
interface ConnectionContext {
  readonly options: SyncEndpointOptions
  readonly logger: Logger
  readonly rooms: RoomManager
  readonly documentBudgets: DocumentBudgets
  readonly peers: Set<WebSocketPeer>
  readonly sessionsByPeer: Map<WebSocketPeer, unknown>
  readonly socketsPerAddress: Map<string, number>
  readonly socketsPerUser: Map<string, number>
  /** Open sockets whose reading is paused. */
  pausedCount: number
}

/**
 * One accepted socket: hands its frames to its session, stops reading it
 * while a budget is spent or the node is overloaded, and cleans up when it
 * closes. A class rather than closures: a node holds one per socket, and
 * methods are shared where closures are not.
 */
class Connection {
  /**
   * Frames ws had already parsed when reading was paused (at most one socket
   * read's worth); handled, in order, on resume.
   */
  private held: Uint8Array[] | null = null
  private resumeTimer: NodeJS.Timeout | null = null
  private readonly budget: ConnectionBudget

  constructor(
    private readonly context: ConnectionContext,
    private readonly ws: WebSocket,
    private readonly peer: WebSocketPeer,
    private readonly session: Session,
    private readonly docId: string,
    private readonly address: string,
    private readonly identity: SocketIdentity | null,
  ) {
    this.budget = connectionBudget(context.options.throttle)
    context.logger.info(this.fields(), 'socket opened')
    ws.on('message', this.handleMessage.bind(this))
    ws.on('pong', this.handlePong.bind(this))
    ws.on('error', this.handleError.bind(this))
    ws.on('close', this.handleClose.bind(this))
  }

  /**
   * Fields of this socket's log lines, built per line rather than bound in a
   * child logger: a pino child costs about a kilobyte for the socket's life.
   */
  private fields(): { docId: string; connId: string; userId: string | null } {
    return { docId: this.docId, connId: this.peer.connId, userId: this.peer.userId }
  }

  private handleMessage(data: RawData, isBinary: boolean): void {
    this.peer.isAlive = true
    if (!isBinary) {
      this.session.fail(CloseCode.UnsupportedData, 'text frames are not supported')
      return
    }
    const frame = copyFrame(data)
    if (this.resumeTimer !== null) (this.held ??= []).push(frame)
    else this.handleFrame(frame)
  }

  private handleFrame(frame: Uint8Array): void {
    try {
      this.session.handleFrame(frame)
    } catch (err) {
      // A bug, not the client's fault: it costs this socket, never the node.
      this.context.logger.error({ ...this.fields(), err }, 'frame handling failed')
      this.session.fail(CloseCode.InternalError, 'internal error')
      return
    }
    // The frame is handled whatever the budgets say; only the next one waits.
    const { options, documentBudgets } = this.context
    const charged = chargeMessage(this.budget, documentBudgets, this.docId, frame.byteLength)
    if (charged.reason !== null) this.pauseReading(charged.waitMs, charged.reason)
    else if (options.isOverloaded?.() === true)
      this.pauseReading(OVERLOAD_RECHECK_MS, 'persist_queue')
  }

  private pauseReading(ms: number, reason: ThrottleReason | 'persist_queue'): void {
    if (this.resumeTimer !== null) return
    this.ws.pause()
    this.peer.isPaused = true
    this.context.pausedCount++
    this.context.options.onThrottled?.(reason)
    this.resumeTimer = setTimeout(this.resumeReading.bind(this), ms)
  }

  private resumeReading(): void {
    if (this.context.options.isOverloaded?.() === true) {
      this.resumeTimer = setTimeout(this.resumeReading.bind(this), OVERLOAD_RECHECK_MS)
      return
    }
    this.resumeTimer = null
    this.peer.isPaused = false
    this.context.pausedCount--
    while (this.resumeTimer === null && this.held !== null && this.held.length > 0)
      this.handleFrame(this.held.shift() as Uint8Array)
    if (this.resumeTimer === null && this.ws.readyState === WebSocket.OPEN) this.ws.resume()
  }

  private handlePong(): void {
    this.peer.isAlive = true
  }

  private handleError(err: Error): void {
    // ws reports protocol violations (oversized frames, bad opcodes) here
    // and closes the socket itself.
    this.context.logger.info(
      { ...this.fields(), err: { message: err.message, code: (err as { code?: string }).code } },
      'socket error',
    )
  }

  private handleClose(code: number): void {
    const context = this.context
    if (this.resumeTimer !== null) {
      clearTimeout(this.resumeTimer)
      this.resumeTimer = null
      context.pausedCount--
    }
    this.held = null
    context.peers.delete(this.peer)
    context.sessionsByPeer.delete(this.peer)
    increment(context.socketsPerAddress, this.address, -1)
    if (this.identity !== null) increment(context.socketsPerUser, this.identity.userId, -1)
    context.rooms.leave(this.session)
    context.options.onSocketClosed?.(code)
    context.logger.info({ ...this.fields(), code }, 'socket closed')
  }
}

/** Copies a frame out of ws's buffers: decoders must never see a shared buffer. */
const copyFrame = (data: RawData): Uint8Array => {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  return new Uint8Array(data)
}

const increment = (counts: Map<string, number>, key: string, delta: number): void => {
  const next = (counts.get(key) ?? 0) + delta
  if (next <= 0) counts.delete(key)
  else counts.set(key, next)
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

const rejectUpgrade = (socket: Duplex, status: number, message: string): void => {
  if (socket.destroyed) return
  const reason = STATUS_TEXT[status] ?? 'Error'
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(message)}\r\nCache-Control: no-store\r\n\r\n${message}`,
  )
}
