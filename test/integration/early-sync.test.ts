/**
 * Field case F14 without its auth step (no accounts yet): a client that
 * sends sync step 1 the instant its socket opens, or even in the same TCP
 * write as the upgrade request, is answered with sync step 2 holding the
 * stored document, within 2 s, every time (CONN-3). Each attempt joins a
 * document that is not in memory, so its frame always arrives while the
 * document loads.
 */
import { randomUUID } from 'node:crypto'
import { BoundedReader, encodeSyncStep1, encodeSyncUpdate } from '@quire/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { RawClient } from '../support/clients.js'
import { isSyncStep2, waitForSaved } from '../support/frames.js'
import { openWithFirstFrame } from '../support/raw-upgrade.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const ATTEMPTS = 100
const ANSWER_DEADLINE_MS = 2_000
const SEEDED_TEXT = 'stored before the attempt'

/** The text a sync step 2 frame carries, applied to an empty document. */
const textOfStep2 = (frame: Uint8Array): string => {
  const reader = new BoundedReader(frame)
  reader.readVarUint()
  reader.readVarUint()
  const doc = new Y.Doc()
  Y.applyUpdate(doc, reader.readVarBytes())
  return doc.getText('text').toString()
}

const emptyStep1 = (): Uint8Array => encodeSyncStep1(Y.encodeStateVector(new Y.Doc()))

/** Outcome of one attempt: how long the answer took, or null when it never came. */
type Attempt = { readonly answeredAfterMs: number | null; readonly text: string | null }

describe('sync step 1 sent the instant a socket opens (CONN-3, F14 without auth)', () => {
  let server: TestServer
  const docId = `t14-${randomUUID().slice(0, 8)}`

  beforeAll(async () => {
    server = await startTestServer({ store: 'embedded', flags: { roomIdleMs: '0' } })
    const source = new Y.Doc()
    source.getText('text').insert(0, SEEDED_TEXT)
    const seeder = await RawClient.open(server.wsUrl, docId, { saved: true })
    seeder.send(encodeSyncUpdate(Y.encodeStateAsUpdate(source)))
    await waitForSaved(seeder, 1)
    seeder.close()
  })
  afterAll(() => server?.dispose())

  /** Runs `attempt` ATTEMPTS times, each once the document is unloaded again. */
  const runAttempts = async (attempt: () => Promise<Attempt>): Promise<Attempt[]> => {
    const results: Attempt[] = []
    for (let i = 0; i < ATTEMPTS; i++) {
      await waitUntil(() => server.rooms.roomCount === 0, 'the document to be unloaded')
      results.push(await attempt())
    }
    return results
  }

  const expectAllAnswered = (results: readonly Attempt[], how: string): void => {
    const answered = results.filter(
      (result) => result.answeredAfterMs !== null && result.text === SEEDED_TEXT,
    )
    const slowestMs = Math.max(...results.map((result) => result.answeredAfterMs ?? Infinity))
    const summary = `${answered.length} of ${results.length} answered, slowest ${slowestMs} ms`
    console.log(`F14 ${how}: ${summary}`)
    expect(answered.length).toBe(ATTEMPTS)
  }

  it('answers step 1 sent in the open handler, 100 times of 100', async () => {
    const results = await runAttempts(async () => {
      const socket = new WebSocket(`${server.wsUrl}/sync/${docId}`, { perMessageDeflate: false })
      const frames: Uint8Array[] = []
      socket.on('message', (data: Buffer) => frames.push(new Uint8Array(data)))
      socket.on('error', () => undefined)
      let openedAt = 0
      socket.on('open', () => {
        openedAt = Date.now()
        socket.send(emptyStep1())
      })
      try {
        await waitUntil(() => frames.some(isSyncStep2), 'sync step 2', ANSWER_DEADLINE_MS + 1_000)
        const step2 = frames.find(isSyncStep2) as Uint8Array
        return { answeredAfterMs: Date.now() - openedAt, text: textOfStep2(step2) }
      } catch {
        return { answeredAfterMs: null, text: null }
      } finally {
        socket.close()
      }
    })
    expectAllAnswered(results, 'step 1 in the open handler')
    const isInTime = (result: Attempt): boolean =>
      (result.answeredAfterMs ?? Infinity) < ANSWER_DEADLINE_MS
    expect(results.every(isInTime)).toBe(true)
  })

  it('answers step 1 sent in the same TCP write as the upgrade, 100 times of 100', async () => {
    const results = await runAttempts(async () => {
      const sentAt = Date.now()
      const socket = openWithFirstFrame(server.url, `/sync/${docId}`, emptyStep1())
      try {
        await waitUntil(() => socket.frames.some(isSyncStep2), 'sync step 2', ANSWER_DEADLINE_MS)
        expect(await socket.status).toBe(101)
        const step2 = socket.frames.find(isSyncStep2) as Uint8Array
        return { answeredAfterMs: Date.now() - sentAt, text: textOfStep2(step2) }
      } catch {
        return { answeredAfterMs: null, text: null }
      } finally {
        socket.destroy()
      }
    })
    expectAllAnswered(results, 'step 1 with the upgrade request')
  })
})
