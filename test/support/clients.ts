/**
 * Clients for tests: y-websocket's own provider (the reference client), and
 * a raw socket that sends exactly the bytes a test gives it.
 */
import { SAVED_ACKS_PARAM } from '@quire/protocol'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { nextEvent, waitUntil } from './wait.js'

/** A y-websocket provider on its own document, destroyed by `destroy`. */
export interface ProviderClient {
  readonly doc: Y.Doc
  readonly provider: WebsocketProvider
  destroy(): void
}

/** Connects an unmodified WebsocketProvider to `/sync/<docId>` and waits until synced. */
export const connectProvider = async (
  wsUrl: string,
  docId: string,
  options: { params?: Record<string, string>; waitForSync?: boolean } = {},
): Promise<ProviderClient> => {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${wsUrl}/sync`, docId, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 500,
    ...(options.params === undefined ? {} : { params: options.params }),
  })
  const client = {
    doc,
    provider,
    destroy: () => {
      provider.destroy()
      doc.destroy()
    },
  }
  if (options.waitForSync !== false)
    await waitUntil(() => provider.synced, `provider sync on ${docId}`)
  return client
}

/** A raw WebSocket client that records what the server sends and how it closed. */
export class RawClient {
  readonly received: Uint8Array[] = []
  closeCode: number | null = null
  closeReason = ''
  readonly closed: Promise<{ code: number; reason: string }>

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.received.push(new Uint8Array(data)))
    this.closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code
        this.closeReason = reason.toString()
        resolve({ code, reason: this.closeReason })
      })
    })
    socket.on('error', () => undefined)
  }

  /** Opens a raw socket to `/sync/<docId>` (optionally asking for saved acks). */
  static async open(
    wsUrl: string,
    docId: string,
    options: { saved?: boolean; params?: Record<string, string> } = {},
  ): Promise<RawClient> {
    const params = new URLSearchParams(options.params)
    if (options.saved === true) params.set(SAVED_ACKS_PARAM, '1')
    const query = params.size === 0 ? '' : `?${params.toString()}`
    const socket = new WebSocket(`${wsUrl}/sync/${docId}${query}`, { perMessageDeflate: false })
    const client = new RawClient(socket)
    await nextEvent(socket, 'open')
    return client
  }

  send(bytes: Uint8Array | string, options: { binary?: boolean } = {}): void {
    this.socket.send(bytes, { binary: options.binary ?? typeof bytes !== 'string' })
  }

  close(): void {
    this.socket.close()
  }
}
