/**
 * One replaying client: a Y.Doc synced by y-websocket's own
 * `WebsocketProvider`, unmodified, over a socket that tracks Quire's saved
 * acknowledgements.
 */
import { MessageType, SAVED_ACKS_PARAM } from '@quire/protocol'
import { TRACE_TEXT } from '@quire/schema'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SavedTracker } from './saved-tracking-socket.js'

/** The name of the Y.Text that replayed traces edit (the traces' own Yjs form). */
export const TRACE_TEXT_NAME = TRACE_TEXT

/** Connection attempts that may fail in a row before `whenSynced` gives up. */
export const MAX_FAILED_CONNECTS = 5

/** A connected client of one document. */
export class ReplayClient {
  readonly doc = new Y.Doc()
  readonly tracker = new SavedTracker()
  readonly provider: WebsocketProvider

  constructor(serverUrl: string, docId: string) {
    this.provider = new WebsocketProvider(`${serverUrl.replace(/\/$/, '')}/sync`, docId, this.doc, {
      WebSocketPolyfill: this.tracker.socketClass() as unknown as typeof WebSocket,
      params: { [SAVED_ACKS_PARAM]: '1' },
      disableBc: true,
      maxBackoffTime: 1000,
    })
    // Quire's saved acknowledgements are read by the tracking socket; the
    // provider only needs to know the message type exists.
    this.provider.messageHandlers[MessageType.Quire] = () => undefined
  }

  /** The replayed text as this client sees it. */
  text(): string {
    return this.doc.getText(TRACE_TEXT_NAME).toString()
  }

  /**
   * Resolves once the provider has synced with the server. Rejects after
   * `timeoutMs`, or as soon as `MAX_FAILED_CONNECTS` connection attempts in a
   * row failed before any sync (a wrong URL, a refused port).
   */
  whenSynced(timeoutMs: number): Promise<void> {
    if (this.provider.synced) return Promise.resolve()
    const sync = waitFor(timeoutMs, 'initial sync', (done) => {
      const listener = (isSynced: boolean): void => {
        if (isSynced) done()
      }
      this.provider.on('sync', listener)
      return () => this.provider.off('sync', listener)
    })
    let watcher: NodeJS.Timeout | undefined
    const failing = new Promise<never>((_, reject) => {
      watcher = setInterval(() => {
        const counters = this.tracker.counters
        if (!this.provider.synced && counters.closeCodes.length >= MAX_FAILED_CONNECTS) {
          // A code like a system error's: the CLI prints it as one line.
          const reason = counters.lastError ?? `closed with ${counters.closeCodes.at(-1)}`
          reject(
            Object.assign(new Error(`cannot connect to ${this.provider.url}: ${reason}`), {
              code: 'ECONNECT',
            }),
          )
        }
      }, 50)
    })
    failing.catch(() => undefined)
    return Promise.race([sync, failing]).finally(() => clearInterval(watcher))
  }

  /** Resolves once the server acknowledged everything sent on the current connection. */
  whenAllSaved(timeoutMs: number): Promise<void> {
    return waitFor(timeoutMs, 'saved acknowledgement', (done) => {
      const check = (): void => {
        if (this.provider.synced && this.tracker.isAllSaved) done()
      }
      const offSaved = this.tracker.onSaved(check)
      this.provider.on('sync', check)
      check()
      return () => {
        offSaved()
        this.provider.off('sync', check)
      }
    })
  }

  destroy(): void {
    this.provider.destroy()
    this.doc.destroy()
  }
}

/**
 * Waits until `subscribe`'s callback fires, or rejects after `timeoutMs`.
 * `subscribe` returns its own cleanup.
 */
export const waitFor = (
  timeoutMs: number,
  what: string,
  subscribe: (done: () => void) => () => void,
): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    let cleanup: (() => void) | null = null
    let isSettled = false
    const timer = setTimeout(() => {
      isSettled = true
      cleanup?.()
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))
    }, timeoutMs)
    cleanup = subscribe(() => {
      if (isSettled) return
      isSettled = true
      clearTimeout(timer)
      // The subscription may fire before subscribe() returned its cleanup.
      queueMicrotask(() => cleanup?.())
      resolve()
    })
    if (isSettled) cleanup()
  })
