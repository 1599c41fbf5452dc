/**
 * Several nodes joined by Redis Streams, in one process: edits and presence
 * cross nodes, saved acknowledgements come from the persister's commit,
 * ordering holds across nodes (F16), server-side edits reach other nodes
 * (F17), quick reconnects lose nothing (F2), and killed Redis connections
 * are re-established (F15).
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { createReplayPlan, loadTrace, ReplayClient, runReplay } from '@quire/tools'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { connectProvider } from '../support/clients.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'
import { waitUntil } from '../support/wait.js'

const newDocId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

describe('nodes joined by Redis Streams', () => {
  const prefix = `qt${randomUUID().slice(0, 8)}`
  let a: TestServer
  let b: TestServer
  beforeAll(async () => {
    const flags = { redisUrl: inject('redisUrl'), redisPrefix: prefix }
    a = await startTestServer({ store: 'postgres', flags })
    b = await startTestServer({ store: 'postgres', flags })
  })
  afterAll(async () => {
    await a.dispose()
    await b.dispose()
  })

  it('carries edits and presence between clients on different nodes, and acknowledges saves', async () => {
    const docId = newDocId('cross')
    const onA = new ReplayClient(a.wsUrl, docId)
    const onB = await connectProvider(b.wsUrl, docId)
    await onA.whenSynced(10_000)
    onA.doc.getText('text').insert(0, 'from A')
    await waitUntil(() => onB.doc.getText('text').toString() === 'from A', 'A → B')
    onB.doc.getText('text').insert(6, ' and B')
    await waitUntil(() => onA.text() === 'from A and B', 'B → A')
    await onA.whenAllSaved(10_000)
    expect(await readStoredText(inject('databaseUrl'), docId)).toContain('from A')

    onB.provider.awareness.setLocalStateField('user', { name: 'Bea' })
    await waitUntil(
      () => onA.provider.awareness.getStates().has(onB.doc.clientID),
      'presence B → A',
    )
    onB.destroy()
    await waitUntil(
      () => !onA.provider.awareness.getStates().has(onB.doc.clientID),
      'B gone for A',
      5_000,
    )
    onA.destroy()
  })

  it('keeps order across nodes: alternating edits, then a concurrent trace (F16)', async () => {
    const docId = newDocId('t295')
    const one = new ReplayClient(a.wsUrl, docId)
    const two = new ReplayClient(b.wsUrl, docId)
    await Promise.all([one.whenSynced(10_000), two.whenSynced(10_000)])
    for (let i = 0; i < 300; i++) {
      const client = i % 2 === 0 ? one : two
      const text = client.doc.getText('text')
      text.insert(Math.floor(Math.random() * (text.length + 1)), String.fromCharCode(97 + (i % 26)))
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10))
    }
    await Promise.all([one.whenAllSaved(20_000), two.whenAllSaved(20_000)])
    await waitUntil(
      () => one.text() === two.text() && one.text().length === 300,
      'both clients converge',
    )
    expect(await readStoredText(inject('databaseUrl'), docId)).toBe(one.text())
    one.destroy()
    two.destroy()

    const plan = createReplayPlan(await loadTrace('friendsforever'), { limitTxns: 3_000 })
    const traceDoc = newDocId('t295-trace')
    const result = await runReplay(plan, {
      servers: [a.wsUrl, b.wsUrl],
      docId: traceDoc,
      timeoutMs: 60_000,
    })
    expect(result.mismatch).toBeUndefined()
    expect(result.converged).toBe(true)
    expect(await readStoredText(inject('databaseUrl'), traceDoc)).toBe(plan.expectedText)
  })

  it('delivers an edit made by server-side code on one node to a client on another (F17)', async () => {
    const docId = newDocId('t800')
    const onB = await connectProvider(b.wsUrl, docId)
    // A does not have the document loaded.
    await a.rooms.applyServerEdit(docId, (doc) => doc.getText('text').insert(0, 'from-api '))
    await waitUntil(
      () => onB.doc.getText('text').toString().includes('from-api'),
      'server edit → B',
      2_000,
    )
    // Again, while A has it loaded.
    const onA = await connectProvider(a.wsUrl, docId)
    await a.rooms.applyServerEdit(docId, (doc) => doc.getText('text').insert(0, 'again '))
    await waitUntil(
      () => onB.doc.getText('text').toString().startsWith('again from-api'),
      'second edit → B',
      2_000,
    )
    expect(await readStoredText(inject('databaseUrl'), docId)).toBe('again from-api ')
    onA.destroy()
    onB.destroy()
  })

  it('loses nothing when one client keeps dropping and reconnecting to alternating nodes (F2)', async () => {
    const docId = newDocId('t971')
    const iterations = 60
    let expected = ''
    for (let i = 0; i < iterations; i++) {
      const client = new ReplayClient(i % 2 === 0 ? a.wsUrl : b.wsUrl, docId)
      await client.whenSynced(10_000)
      const char = String.fromCharCode(0x4e00 + i)
      client.doc.getText('text').insert(client.doc.getText('text').length, char)
      expected += char
      client.destroy()
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80))
    }
    const reader = new ReplayClient(b.wsUrl, docId)
    await reader.whenSynced(10_000)
    await waitUntil(
      () => [...reader.text()].length === iterations,
      'every character on the other node',
      10_000,
    )
    expect([...reader.text()].sort().join('')).toBe([...expected].sort().join(''))
    await waitUntil(
      async () => [...(await readStoredText(inject('databaseUrl'), docId))].length === iterations,
      'every character in PostgreSQL',
      10_000,
      100,
    )
    reader.destroy()
  })

  it('recovers when Redis kills the node connections mid-session (F15)', async () => {
    const docId = newDocId('t394')
    const onA = new ReplayClient(a.wsUrl, docId)
    const onB = await connectProvider(b.wsUrl, docId)
    await onA.whenSynced(10_000)
    onA.doc.getText('text').insert(0, 'before ')
    await waitUntil(() => onB.doc.getText('text').toString() === 'before ', 'first edit')

    const admin = new Redis(inject('redisUrl'))
    const clients = (await admin.client('LIST')) as string
    const ids = clients
      .split('\n')
      .filter((line) => line.includes(`name=quire-${prefix}-`))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined)
    for (const id of ids) await admin.client('KILL', 'ID', id)
    await admin.quit()

    const sentAt = Date.now()
    onA.doc.getText('text').insert(7, 'after-kill')
    await waitUntil(
      () => onB.doc.getText('text').toString() === 'before after-kill',
      'edit after the kill',
      5_000,
    )
    await onA.whenAllSaved(10_000)
    expect(Date.now() - sentAt).toBeLessThan(5_000)
    expect(await readStoredText(inject('databaseUrl'), docId)).toBe('before after-kill')
    onA.destroy()
    onB.destroy()
  })
})
