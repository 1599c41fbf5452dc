/**
 * The load generator's client: one WebSocket speaking the sync protocol
 * directly (no provider), so one process can hold hundreds of them and the
 * numbers measure the server rather than the client. A client may own a
 * `Y.Doc` (writers, fresh joiners) or hold nothing (listeners).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { MESSAGE_SYNC, type ProtocolAdapter } from './adapters.js'

const SYNC_STEP_1 = 0
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2

/** An empty state vector: what a client holding nothing announces. */
const EMPTY_STATE_VECTOR = Y.encodeStateVector(new Y.Doc())
/** An update that adds nothing. */
const EMPTY_UPDATE = Y.encodeStateAsUpdate(new Y.Doc())

/** Options of `BenchClient`. */
export interface BenchClientOptions {
  readonly adapter: ProtocolAdapter
  /** `ws://host:port` of the server. */
  readonly base: string
  readonly docId: string
  /** The client's own document; absent, the client holds nothing. */
  readonly doc?: Y.Doc
  /** Apply what the server sends into `doc` (a real joiner); needs `doc`. @default false */
  readonly applyRemote?: boolean
  /** Ask for acknowledgements where the server needs asking (Quire's `?saved=1`). @default false */
  readonly wantsAcks?: boolean
  /** Called with each update relayed by the server and its arrival time (performance.now). */
  readonly onRemoteUpdate?: (update: Uint8Array, atMs: number) => void
  /** Called when the server acknowledges content messages 1..upTo. */
  readonly onAck?: (upTo: number, atMs: number) => void
}

/** One connection to one document. */
export class BenchClient {
  /** Content messages (sync step 2 and updates) sent, numbered from 1 as the servers count. */
  sentContent = 0
  /** Highest content message acknowledged. */
  acked = 0
  /** Close code once closed. */
  closeCode: number | null = null
  readonly #options: BenchClientOptions
  #socket: WebSocket | null = null
  #stepTwoWaiters: (() => void)[] = []
  #pendingStepOne = 0

  constructor(options: BenchClientOptions) {
    this.#options = options
  }

  /**
   * Opens the socket, sends sync step 1 and resolves once the server's
   * sync step 2 arrived (the client is synced). Rejects on close or after
   * `timeoutMs`.
   */
  connect(timeoutMs: number): Promise<void> {
    const { adapter, base, docId, wantsAcks = false } = this.#options
    const socket = new WebSocket(adapter.url(base, docId, wantsAcks), { perMessageDeflate: false })
    socket.binaryType = 'nodebuffer'
    this.#socket = socket
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${docId}: not synced after ${timeoutMs} ms`))
        socket.terminate()
      }, timeoutMs)
      const fail = (reason: string): void => {
        clearTimeout(timer)
        reject(new Error(`${docId}: ${reason}`))
      }
      socket.on('error', (err) => fail(err.message))
      socket.on('close', (code) => {
        this.closeCode = code
        fail(`closed with ${code} before sync`)
      })
      socket.on('open', () => {
        for (const frame of adapter.openingFrames(docId)) socket.send(frame)
        if (!adapter.needsAuthenticated) this.#sendStepOne()
      })
      socket.on('message', (data: Buffer) => this.#handleFrame(data))
      this.#stepTwoWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Sends an update as a sync update message; returns its content message number. */
  sendUpdate(update: Uint8Array): number {
    this.#sendSync(SYNC_UPDATE, update)
    return this.sentContent
  }

  /**
   * Resolves once everything sent before it has been applied by the server:
   * sends sync step 1 and waits for the step 2 answer, which every server
   * handles in order on one connection. Works where there are no acks.
   */
  barrier(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.#options.docId}: no barrier answer in ${timeoutMs} ms`)),
        timeoutMs,
      )
      this.#stepTwoWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
      this.#sendStepOne()
    })
  }

  /** Closes the socket (1000) and resolves once it is closed. */
  close(): Promise<void> {
    const socket = this.#socket
    if (socket === null || socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      socket.removeAllListeners('close')
      socket.once('close', () => resolve())
      socket.close(1000)
      setTimeout(() => {
        socket.terminate()
        resolve()
      }, 2_000).unref()
    })
  }

  /** Drops the socket without a closing handshake. */
  terminate(): void {
    this.#socket?.removeAllListeners('close')
    this.#socket?.terminate()
  }

  #sendStepOne(): void {
    const doc = this.#options.doc
    this.#pendingStepOne++
    this.#sendSync(SYNC_STEP_1, doc === undefined ? EMPTY_STATE_VECTOR : Y.encodeStateVector(doc))
  }

  #sendSync(syncType: number, payload: Uint8Array): void {
    const encoder = encoding.createEncoder()
    this.#options.adapter.writePrefix(encoder, this.#options.docId)
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    encoding.writeVarUint(encoder, syncType)
    encoding.writeVarUint8Array(encoder, payload)
    if (syncType !== SYNC_STEP_1) this.sentContent++
    this.#socket?.send(encoding.toUint8Array(encoder))
  }

  #handleFrame(data: Buffer): void {
    const now = performance.now()
    const message = this.#options.adapter.decode(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    )
    switch (message.kind) {
      case 'sync':
        this.#handleSync(message.decoder, now)
        return
      case 'ack':
        this.acked = message.upTo === 'next' ? this.acked + 1 : Math.max(this.acked, message.upTo)
        this.#options.onAck?.(this.acked, now)
        return
      case 'authenticated':
        this.#sendStepOne()
        return
      case 'other':
        return
      default: {
        const unknown: never = message
        throw new Error(`unhandled message ${JSON.stringify(unknown)}`)
      }
    }
  }

  #handleSync(decoder: decoding.Decoder, now: number): void {
    const syncType = decoding.readVarUint(decoder)
    const payload = decoding.readVarUint8Array(decoder)
    const { doc, applyRemote = false } = this.#options
    if (syncType === SYNC_STEP_1) {
      this.#sendSync(
        SYNC_STEP_2,
        doc === undefined ? EMPTY_UPDATE : Y.encodeStateAsUpdate(doc, payload),
      )
      return
    }
    if (applyRemote && doc !== undefined) Y.applyUpdate(doc, payload, this)
    if (syncType === SYNC_UPDATE) {
      this.#options.onRemoteUpdate?.(payload, now)
      return
    }
    // Step 2: the answer to our oldest step 1.
    if (this.#pendingStepOne === 0) return
    this.#pendingStepOne--
    const waiter = this.#stepTwoWaiters.shift()
    if (this.#stepTwoWaiters.length === 0 && this.#socket !== null) {
      // Synced: from now on a close is not a connect failure.
      this.#socket.removeAllListeners('error')
      this.#socket.removeAllListeners('close')
      this.#socket.on('error', () => undefined)
      this.#socket.on('close', (code) => (this.closeCode = code))
    }
    waiter?.()
  }
}
