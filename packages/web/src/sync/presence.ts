/**
 * Presence (awareness) over a `WebsocketProvider` that survives a dropped
 * connection: after a reconnect, the others see this client again at once,
 * and this client sees them, instead of after the next 15 s renewal.
 *
 * y-protocols accepts a state only with a higher clock than the one it last
 * heard for that client, or an equal clock for a removal. So:
 * - When the socket drops, the server publishes this client's removal, at
 *   its clock or one above (`AwarenessRegistry.release`), and a peer that
 *   times it out keeps its clock. The state y-websocket re-sends on open
 *   carries the same clock and is ignored. Each drop and each open here
 *   advance the clock once, so the state sent after the open is above any
 *   removal the others heard.
 * - When the socket drops, y-websocket removes the others' states here but
 *   keeps their clocks; the server's snapshot on the next open carries the
 *   same clocks and would be ignored. Their clocks are forgotten with them.
 * - y-websocket relays every awareness change it hears, others' included;
 *   a client echoing a departed client's removal claims that id on the
 *   server. Only this client's own state is sent here.
 */
import * as awarenessProtocol from 'y-protocols/awareness'
import * as encoding from 'lib0/encoding'
import type { WebsocketProvider } from 'y-websocket'

/** y-websocket's message types for an awareness update and a query for all states. */
const MESSAGE_AWARENESS = 1
const MESSAGE_QUERY_AWARENESS = 3

interface AwarenessChange {
  readonly added: readonly number[]
  readonly updated: readonly number[]
  readonly removed: readonly number[]
}

/**
 * Takes over how `provider` publishes this client's presence (see above).
 * Call once, right after creating the provider; the returned function
 * detaches it, before the provider is destroyed.
 */
export const attachPresence = (provider: WebsocketProvider): (() => void) => {
  const { awareness } = provider
  const ownId = awareness.clientID

  const sendOwnState = (): void => {
    const socket = provider.ws
    if (!provider.wsconnected || socket === null || socket.readyState !== WebSocket.OPEN) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(
      encoder,
      awarenessProtocol.encodeAwarenessUpdate(awareness, [ownId]),
    )
    socket.send(encoding.toUint8Array(encoder))
  }
  // Republishing the same state advances its clock (and sends it when open).
  const advanceClock = (): void => {
    const state = awareness.getLocalState()
    if (state !== null) awareness.setLocalState({ ...state })
  }

  awareness.off('update', provider._awarenessUpdateHandler)
  const handleUpdate = ({ added, updated, removed }: AwarenessChange): void => {
    if (added.includes(ownId) || updated.includes(ownId) || removed.includes(ownId)) sendOwnState()
  }
  awareness.on('update', handleUpdate)
  provider.messageHandlers[MESSAGE_QUERY_AWARENESS] = (encoder) => {
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(
      encoder,
      awarenessProtocol.encodeAwarenessUpdate(awareness, [ownId]),
    )
  }

  const handleStatus = ({ status }: { status: string }): void => {
    if (status === 'disconnected') {
      // y-websocket has just removed the others' states: forget their clocks.
      for (const clientId of [...awareness.meta.keys()]) {
        if (clientId !== ownId && !awareness.states.has(clientId)) awareness.meta.delete(clientId)
      }
      advanceClock()
    } else if (status === 'connected') {
      // After y-websocket's open handler sent sync step 1 and the old state.
      queueMicrotask(advanceClock)
    }
  }
  provider.on('status', handleStatus)

  return () => {
    provider.off('status', handleStatus)
    awareness.off('update', handleUpdate)
  }
}
