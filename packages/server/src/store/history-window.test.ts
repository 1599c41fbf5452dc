/**
 * `loadHistoryWindow`: which stretch of the log a changes request replays,
 * and its bound on the rows it reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { loadHistoryWindow } from './history.js'
import { migrate } from './migrations.js'
import type { SqlClient } from './sql-client.js'
import { TEST_ENGINES, type TestDatabase } from './store-test-support.js'

const DOC_ID = 'window-doc'
const UPDATES = 10

describe('loadHistoryWindow', () => {
  let database: TestDatabase
  let client: SqlClient

  beforeAll(async () => {
    const engine = TEST_ENGINES.find((candidate) => candidate.name === 'PGlite')
    if (engine === undefined) throw new Error('no PGlite engine')
    database = await engine.open()
    client = await database.connect()
    await migrate(client)

    // Ten one-character updates by two people, a checkpoint after 4 and 8.
    const doc = new Y.Doc()
    await client.query('INSERT INTO documents (id, last_seq) VALUES ($1, $2)', [DOC_ID, UPDATES])
    await client.query(
      `INSERT INTO users (id, email, name, password_hash) VALUES ('u1', 'a@x', 'Ada', '-')`,
    )
    for (let seq = 1; seq <= UPDATES; seq++) {
      let update: Uint8Array = new Uint8Array()
      doc.once('update', (data: Uint8Array) => (update = data))
      doc.getText('text').insert(seq - 1, 'x')
      await client.query(
        `INSERT INTO updates (doc_id, seq, data, user_id, received_at, bus_id)
           VALUES ($1, $2, $3, $4, now(), $5)`,
        [DOC_ID, seq, update, seq % 2 === 0 ? 'u1' : 'u2', `b${seq}`],
      )
      if (seq % 4 === 0) {
        await client.query(
          'INSERT INTO checkpoints (doc_id, seq, state, state_vector) VALUES ($1, $2, $3, $4)',
          [DOC_ID, seq, Y.encodeStateAsUpdate(doc), Y.encodeStateVector(doc)],
        )
      }
    }
  })
  afterAll(async () => {
    await client?.close()
    await database?.cleanup()
  })

  it('starts from the empty document when the whole log fits the budget', async () => {
    const found = await loadHistoryWindow(client, DOC_ID, { seq: 9, since: 5, maxUpdates: 20 })
    expect(found.reason).toBe('loaded')
    if (found.reason !== 'loaded') return
    expect(found.window.baseSeq).toBe(0)
    expect(found.window.updates.map((u) => u.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect([...found.window.names]).toEqual([
      ['u2', null],
      ['u1', 'Ada'],
    ])
  })

  it('starts from the earliest checkpoint within the budget, never after since', async () => {
    const found = await loadHistoryWindow(client, DOC_ID, { seq: 10, since: 9, maxUpdates: 7 })
    expect(found.reason === 'loaded' && found.window.baseSeq).toBe(4)
    const early = await loadHistoryWindow(client, DOC_ID, { seq: 10, since: 6, maxUpdates: 3 })
    expect(early).toEqual({ reason: 'too-long', maxUpdates: 3 })
    const noCheckpoint = await loadHistoryWindow(client, DOC_ID, {
      seq: 10,
      since: 2,
      maxUpdates: 5,
    })
    expect(noCheckpoint).toEqual({ reason: 'too-long', maxUpdates: 5 })
    const atCheckpoint = await loadHistoryWindow(client, DOC_ID, {
      seq: 10,
      since: null,
      maxUpdates: 2,
    })
    expect(atCheckpoint.reason === 'loaded' && atCheckpoint.window.updates.length).toBe(2)
  })

  it('knows no version past the log', async () => {
    expect(
      await loadHistoryWindow(client, DOC_ID, { seq: 11, since: null, maxUpdates: 100 }),
    ).toEqual({ reason: 'unknown-version' })
  })
})
