import { encodeSyncStep1, encodeSyncStep2, encodeSyncUpdate } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SaveTracker } from './save-tracker.js'

/** A stand-in for the browser's WebSocket (Node 20 has none): records frames, is always open. */
class FakeWebSocket {
  static readonly OPEN = 1
  readyState = 1
  readonly sent: unknown[] = []
  constructor(readonly url: string) {}
  send(data: unknown): void {
    this.sent.push(data)
  }
}

const original = (globalThis as { WebSocket?: unknown }).WebSocket
beforeAll(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket = FakeWebSocket
})
afterAll(() => {
  ;(globalThis as { WebSocket?: unknown }).WebSocket = original
})

const open = (tracker: SaveTracker): WebSocket => {
  const Socket = tracker.createWebSocketClass()
  return new Socket('ws://quire.test/sync/doc')
}
const BYTES = new Uint8Array([0, 0])

describe('SaveTracker', () => {
  it('is saved once the server acknowledged every content message the socket sent', () => {
    const tracker = new SaveTracker(false, () => {})
    const socket = open(tracker)
    socket.send(encodeSyncStep1(BYTES))
    expect(tracker.isSaved).toBe(true)
    socket.send(encodeSyncStep2(BYTES))
    socket.send(encodeSyncUpdate(BYTES))
    tracker.handleLocalUpdate()
    expect(tracker.isSaved).toBe(false)
    tracker.handleQuireMessage(0, 1)
    expect(tracker.isSaved).toBe(false)
    tracker.handleQuireMessage(0, 2)
    expect(tracker.isSaved).toBe(true)
  })

  it('keeps an edit made while disconnected unsaved until a later socket sent its step 2 and it was acknowledged', () => {
    const tracker = new SaveTracker(false, () => {})
    tracker.handleLocalUpdate()
    expect(tracker.isSaved).toBe(false)
    const socket = open(tracker)
    expect(tracker.isSaved).toBe(false)
    socket.send(encodeSyncStep2(BYTES))
    expect(tracker.isSaved).toBe(false)
    tracker.handleQuireMessage(0, 1)
    expect(tracker.isSaved).toBe(true)
  })

  it('counts what a closed socket sent but was not acknowledged as unsaved', () => {
    const tracker = new SaveTracker(false, () => {})
    const socket = open(tracker)
    socket.send(encodeSyncUpdate(BYTES))
    tracker.handleLocalUpdate()
    tracker.handleSocketClosed()
    expect(tracker.isSaved).toBe(false)
    const next = open(tracker)
    tracker.handleQuireMessage(0, 5)
    expect(tracker.isSaved).toBe(false)
    next.send(encodeSyncStep2(BYTES))
    tracker.handleQuireMessage(0, 1)
    expect(tracker.isSaved).toBe(true)
  })

  it('starts unsaved when the local copy held unacknowledged edits at the last visit', () => {
    expect(new SaveTracker(true, () => {}).isSaved).toBe(false)
  })

  it('ignores unknown Quire message subtypes', () => {
    const tracker = new SaveTracker(false, () => {})
    const socket = open(tracker)
    socket.send(encodeSyncUpdate(BYTES))
    tracker.handleLocalUpdate()
    tracker.handleQuireMessage(7, 1)
    expect(tracker.isSaved).toBe(false)
  })
})
