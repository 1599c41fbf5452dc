/**
 * One open document: its `Y.Doc`, the local copy in IndexedDB, the
 * WebSocket to the server, and what the person should see about them
 * (connected or not, saved or not, and why syncing stopped if it did).
 *
 * Reconnecting is done here, not by y-websocket: its own loop retries
 * every 2.5 s at most without jitter and knows nothing of Quire's close
 * codes (docs/errors.md). Upgrade refusals (401, 404) reach a browser only
 * as close code 1006, so repeated failures to open ask the API why.
 */
import { CloseCode } from '@quire/protocol'
import { SCHEMA_VERSION } from '@quire/schema'
import * as decoding from 'lib0/decoding'
import { IndexeddbPersistence } from 'y-indexeddb'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import type { RefreshOutcome } from '../api/client.js'
import { reconnectDelayMs } from './backoff.js'
import {
  docDatabaseName,
  loadHasUnsavedEdits,
  rememberCachedDocument,
  storeHasUnsavedEdits,
} from './offline-cache.js'
import { attachPresence } from './presence.js'
import { QUIRE_MESSAGE_TYPE, SaveTracker } from './save-tracker.js'

/** The link to the server, as the status indicator shows it. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'stopped'

/** Why syncing stopped for good; each needs the person to do something. */
export type SyncProblem =
  | { readonly kind: 'gone' }
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'too-old' }
  | { readonly kind: 'read-only' }
  | { readonly kind: 'rejected'; readonly reason: string }

/** What the page renders; a new object whenever something in it changed. */
export interface SyncSnapshot {
  readonly connection: ConnectionState
  /** The server has durably stored every edit made here. */
  readonly isSaved: boolean
  /** The local copy or the server's state has been loaded into the document. */
  readonly hasLoaded: boolean
  /** Every edit made here is in this device's copy (IndexedDB), whatever the server has. */
  readonly isStoredLocally: boolean
  readonly problem: SyncProblem | null
}

/** What a `DocumentSync` needs from the rest of the app. */
export interface DocumentSyncOptions {
  readonly docId: string
  /** Trades the refresh cookie for a new access cookie. */
  readonly refreshSession: () => Promise<RefreshOutcome>
  /** Asks the API whether the document is still there for this person. */
  readonly checkAccess: () => Promise<'ok' | 'gone' | 'signed-out' | 'unknown'>
}

/** Failures to open in a row after which the API is asked why (refusals look like 1006). */
const OPEN_FAILURES_BEFORE_CHECK = 2

/** Longest wait for the local copy before connecting anyway, in ms. */
const LOCAL_LOAD_TIMEOUT_MS = 3_000

/** Close codes after which reconnecting sends the same refused data again. */
const UNRECOVERABLE_CODES: ReadonlySet<number> = new Set([
  CloseCode.MalformedMessage,
  CloseCode.TooLarge,
  CloseCode.UnsupportedData,
  CloseCode.MessageTooBig,
])

/** An open document; the page creates one per visit and must `destroy()` it. */
export class DocumentSync {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  private readonly persistence: IndexeddbPersistence
  private readonly tracker: SaveTracker
  private readonly detachPresence: () => void
  private snapshot: SyncSnapshot
  private readonly listeners = new Set<() => void>()

  private hasLoaded = false
  private hasEverSynced = false
  private problem: SyncProblem | null = null
  private isDestroyed = false
  private isClosingOnPurpose = false
  private isSocketOpen = false
  private attempt = 0
  private openFailures = 0
  private hasCheckedAccess = false
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null
  /** Local edits made, and how many of them this device's copy is known to hold. */
  private localWrites = 0
  private storedLocalWrites = 0

  constructor(private readonly options: DocumentSyncOptions) {
    const { docId } = options
    this.tracker = new SaveTracker(loadHasUnsavedEdits(docId), () => this.refresh())
    this.persistence = new IndexeddbPersistence(docDatabaseName(docId), this.doc)
    rememberCachedDocument(docId)

    const protocol = location.protocol === 'https:' ? 'wss' : 'ws'
    this.provider = new WebsocketProvider(`${protocol}://${location.host}/sync`, docId, this.doc, {
      connect: false,
      // Other tabs sync through the server, not BroadcastChannel: what a
      // tab relays for another is not counted by either tab's save tracker.
      disableBc: true,
      params: { saved: '1', schema: String(SCHEMA_VERSION) },
      WebSocketPolyfill: this.tracker.createWebSocketClass(),
    })
    this.provider.messageHandlers[QUIRE_MESSAGE_TYPE] = (_encoder, decoder) => {
      this.tracker.handleQuireMessage(decoding.readVarUint(decoder), decoding.readVarUint(decoder))
    }
    // Before any other status listener: a reconnect republishes presence.
    this.detachPresence = attachPresence(this.provider)
    // Registered after the provider's own handler, so it runs after the
    // provider has (or has not) sent the update.
    this.doc.on('update', (_update: Uint8Array, origin: unknown) => {
      if (origin !== this.provider && origin !== this.persistence) {
        this.tracker.handleLocalUpdate()
        this.trackLocalWrite()
      }
    })
    this.provider.on('status', ({ status }) => {
      this.isSocketOpen = status === 'connected'
      this.refresh()
    })
    this.provider.on('sync', (isSynced: boolean) => this.handleSynced(isSynced))
    this.provider.on('connection-close', (event) => this.handleClose(event))
    addEventListener('online', this.handleOnline)
    addEventListener('offline', this.handleOffline)
    this.snapshot = this.computeSnapshot()

    // Connect once the local copy is in the document, so the first state
    // vector already includes it and the server sends only what is missing.
    const timeout = setTimeout(() => this.handleLocalLoaded(), LOCAL_LOAD_TIMEOUT_MS)
    void this.persistence.whenSynced.then(() => {
      clearTimeout(timeout)
      this.handleLocalLoaded()
    })
  }

  /** For `useSyncExternalStore`. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  readonly getSnapshot = (): SyncSnapshot => this.snapshot

  /** Closes the socket and the local copy; the document stays in IndexedDB. */
  destroy(): void {
    if (this.isDestroyed) return
    this.isDestroyed = true
    this.clearReconnectTimer()
    removeEventListener('online', this.handleOnline)
    removeEventListener('offline', this.handleOffline)
    this.detachPresence()
    this.provider.destroy()
    void this.persistence.destroy()
    this.doc.destroy()
    this.listeners.clear()
  }

  /**
   * y-indexeddb writes each update in its own transaction, issued from its
   * own update handler (registered before ours). A read-only transaction on
   * the same store completes only after every earlier write to it has: when
   * it does and nothing newer was written, the device has every edit.
   */
  private trackLocalWrite(): void {
    const generation = ++this.localWrites
    this.refresh()
    const db = (this.persistence as unknown as { db: IDBDatabase | null }).db
    if (db === null) return
    try {
      const transaction = db.transaction(['updates'], 'readonly')
      transaction.oncomplete = () => {
        if (generation !== this.localWrites) return
        this.storedLocalWrites = generation
        this.refresh()
      }
    } catch {
      // The database is closing (the page is leaving): nothing to report.
    }
  }

  private handleLocalLoaded(): void {
    if (this.isDestroyed || this.hasLoaded) return
    this.hasLoaded = true
    this.refresh()
    if (navigator.onLine) this.provider.connect()
  }

  private handleSynced(isSynced: boolean): void {
    if (!isSynced) return
    this.hasLoaded = true
    this.hasEverSynced = true
    this.attempt = 0
    this.openFailures = 0
    this.hasCheckedAccess = false
    this.refresh()
  }

  private readonly handleOnline = (): void => {
    if (this.problem !== null) return
    this.attempt = 0
    this.clearReconnectTimer()
    this.provider.connect()
    this.refresh()
  }

  private readonly handleOffline = (): void => {
    this.clearReconnectTimer()
    this.closeOnPurpose()
    this.refresh()
  }

  /**
   * The socket closed. `event` is null when the provider closed it itself:
   * on `disconnect()`, or after 30 s without any message (its watchdog).
   */
  private handleClose(event: CloseEvent | null): void {
    this.tracker.handleSocketClosed()
    // Stop y-websocket's own retry: its scheduled `setupWS` does nothing
    // while `shouldConnect` is false. Not `disconnect()`: this runs inside
    // the provider's close handling, and `disconnect()` would re-enter it.
    this.provider.shouldConnect = false
    const wasOpen = this.isSocketOpen
    this.isSocketOpen = false
    if (this.isDestroyed || this.isClosingOnPurpose) return

    const code = event?.code ?? null
    if (code === CloseCode.Unauthorized) void this.recoverSession()
    else if (code === CloseCode.NotFound) this.stop({ kind: 'gone' })
    else if (code === CloseCode.Forbidden) this.stop({ kind: 'read-only' })
    else if (code === CloseCode.ClientTooOld) this.stop({ kind: 'too-old' })
    else if (code !== null && UNRECOVERABLE_CODES.has(code))
      this.stop({ kind: 'rejected', reason: event?.reason || `closed with ${code}` })
    else if (!wasOpen) void this.handleOpenFailure()
    else this.scheduleReconnect(code === CloseCode.ServiceRestart ? 0 : this.attempt)
    this.refresh()
  }

  /** 4401: the access token expired or the session was revoked. */
  private async recoverSession(): Promise<void> {
    const outcome = await this.options.refreshSession()
    if (outcome === 'denied') this.stop({ kind: 'signed-out' })
    else this.scheduleReconnect(outcome === 'refreshed' ? 0 : this.attempt)
  }

  /**
   * The socket never opened: the network, a node restarting, or a refusal
   * at the upgrade (no session, no access), which the browser hides. After
   * a few in a row, ask the API once which it is.
   */
  private async handleOpenFailure(): Promise<void> {
    this.openFailures++
    if (this.openFailures < OPEN_FAILURES_BEFORE_CHECK || this.hasCheckedAccess) {
      this.scheduleReconnect(this.attempt)
      return
    }
    this.hasCheckedAccess = true
    const refreshed = await this.options.refreshSession()
    if (this.isDestroyed) return
    if (refreshed === 'denied') return this.stop({ kind: 'signed-out' })
    const access = await this.options.checkAccess()
    if (access === 'gone') this.stop({ kind: 'gone' })
    else if (access === 'signed-out') this.stop({ kind: 'signed-out' })
    else this.scheduleReconnect(refreshed === 'refreshed' ? 0 : this.attempt)
  }

  private scheduleReconnect(attempt: number): void {
    if (this.isDestroyed || this.problem !== null || !navigator.onLine) return
    this.clearReconnectTimer()
    const delayMs = reconnectDelayMs(attempt)
    this.attempt = attempt + 1
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      if (!this.isDestroyed && this.problem === null && navigator.onLine) this.provider.connect()
    }, delayMs)
    this.refresh()
  }

  private stop(problem: SyncProblem): void {
    if (this.isDestroyed) return
    this.problem = problem
    this.clearReconnectTimer()
    this.closeOnPurpose()
    this.refresh()
  }

  private closeOnPurpose(): void {
    this.isClosingOnPurpose = true
    this.provider.disconnect()
    this.isClosingOnPurpose = false
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer === null) return
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
  }

  private refresh(): void {
    if (this.isDestroyed) return
    const next = this.computeSnapshot()
    const previous = this.snapshot
    if (
      previous !== undefined &&
      previous.connection === next.connection &&
      previous.isSaved === next.isSaved &&
      previous.hasLoaded === next.hasLoaded &&
      previous.isStoredLocally === next.isStoredLocally &&
      previous.problem === next.problem
    )
      return
    if (previous === undefined || previous.isSaved !== next.isSaved) {
      storeHasUnsavedEdits(this.options.docId, !next.isSaved)
    }
    this.snapshot = next
    for (const listener of this.listeners) listener()
  }

  private computeSnapshot(): SyncSnapshot {
    return {
      connection: this.computeConnection(),
      isSaved: this.tracker.isSaved,
      hasLoaded: this.hasLoaded,
      isStoredLocally: this.storedLocalWrites === this.localWrites,
      problem: this.problem,
    }
  }

  private computeConnection(): ConnectionState {
    if (this.problem !== null) return 'stopped'
    if (!navigator.onLine) return 'offline'
    if (this.isSocketOpen && this.provider.synced) return 'connected'
    return this.hasEverSynced || this.attempt > 0 ? 'reconnecting' : 'connecting'
  }
}
