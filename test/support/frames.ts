/**
 * Building client frames and reading server frames in tests: updates made
 * from a local `Y.Doc`, saved acknowledgements, round trips that prove the
 * server has handled everything sent before, and seeded random bytes.
 */
import {
  decodeQuireMessage,
  encodeQueryAwareness,
  MessageType,
  SyncMessageType,
} from '@quire/protocol'
import * as Y from 'yjs'
import type { RawClient } from './clients.js'
import { waitUntil } from './wait.js'

/** The updates `change` produces on `doc`, one per transaction, in order. */
export const captureUpdates = (doc: Y.Doc, change: () => void): Uint8Array[] => {
  const updates: Uint8Array[] = []
  const onUpdate = (update: Uint8Array): void => {
    updates.push(update)
  }
  doc.on('update', onUpdate)
  try {
    change()
  } finally {
    doc.off('update', onUpdate)
  }
  return updates
}

/** The counts of every saved acknowledgement `client` received, in order. */
export const savedCounts = (client: RawClient): number[] =>
  client.received.flatMap((frame) => {
    const message = decodeQuireMessage(frame)
    return message === null ? [] : [message.count]
  })

/** Waits until `client` has been told that its first `count` content messages are saved. */
export const waitForSaved = (client: RawClient, count: number, timeoutMs = 10_000): Promise<void> =>
  waitUntil(
    () => savedCounts(client).some((saved) => saved >= count),
    `saved acknowledgement of ${count} messages`,
    timeoutMs,
  )

/**
 * Sends a query for presence and waits for its answer. The server handles
 * one socket's frames in order, so once the answer is back, everything sent
 * before the query has been handled (though not necessarily stored).
 * A keep-alive (an empty awareness message, every `--ping-interval-ms`)
 * looks the same as the answer: use it on nodes with the default interval.
 */
export const roundTrip = async (client: RawClient): Promise<void> => {
  const isAwareness = (frame: Uint8Array): boolean => frame[0] === MessageType.Awareness
  const before = client.received.filter(isAwareness).length
  client.send(encodeQueryAwareness())
  await waitUntil(
    () => client.received.filter(isAwareness).length > before,
    'the answer to a presence query',
  )
}

/** Whether `frame` is a sync step 2 message. */
export const isSyncStep2 = (frame: Uint8Array): boolean =>
  frame[0] === MessageType.Sync && frame[1] === SyncMessageType.Step2

/**
 * A deterministic generator (mulberry32) so a failing random input can be
 * reproduced from its seed.
 */
export const createSeededRandom = (seed: number): { bytes(length: number): Uint8Array } => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  return {
    bytes: (length) => {
      const bytes = new Uint8Array(length)
      for (let i = 0; i < length; i++) bytes[i] = next() & 0xff
      return bytes
    },
  }
}
