/**
 * History retention end to end (STORE-4): a node's own pruner thins a
 * document whose history is older than the window and counts it in
 * /metrics; `quire history prune` does the same from the command line;
 * afterwards the API
 * answers 410 for versions whose updates are gone, kept versions still
 * open, and the document opens with exactly its current content.
 *
 * Checkpoints are made old by moving their creation time back, the way
 * time would; only this file's documents are touched (other files share
 * the database, and no other test moves checkpoint times).
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { ApiUser, whenProviderSynced } from '../support/accounts.js'
import { REPO_ROOT, startTestServer, type TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'

const DAY_MS = 86_400_000

const writeParagraph = (doc: Y.Doc, text: string): void => {
  const fragment = doc.getXmlFragment('default')
  doc.transact(() => {
    if (fragment.length > 0) fragment.delete(0, fragment.length)
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText(text)])
    fragment.insert(0, [paragraph])
  })
}

const contentOf = (doc: Y.Doc): string => doc.getXmlFragment('default').toString()

const runQuire = (args: readonly string[]): Promise<{ code: number | null; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), ...args],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout }))
  })

/** A document with named versions 'one' and 'three', an automatic version between, and a tail. */
interface WrittenDocument {
  readonly docId: string
  /** seq of each paragraph's edit, in order one, two, three, four */
  readonly seqs: readonly number[]
}

/**
 * Writes four paragraphs through a live editor, saving 'one' and 'three'
 * as named versions, then moves every checkpoint 40 days back.
 */
const writeOldDocument = async (
  server: TestServer,
  owner: ApiUser,
  db: pg.Client,
): Promise<WrittenDocument> => {
  const docId = await owner.createDocument('Retained')
  const client = owner.connect(server.wsUrl, docId)
  await whenProviderSynced(client.provider)
  const seqs: number[] = []
  const lastSeq = async (): Promise<number> => {
    const response = await owner.call('GET', `/api/documents/${docId}/versions`)
    return ((await response.json()) as { lastSeq: number }).lastSeq
  }
  for (const text of ['one', 'two', 'three', 'four']) {
    const before = await lastSeq()
    writeParagraph(client.doc, text)
    await waitUntil(async () => (await lastSeq()) > before, `the edit '${text}' stored`)
    seqs.push(await lastSeq())
    if (text === 'one' || text === 'three') {
      const saved = await owner.call('POST', `/api/documents/${docId}/versions`, { name: text })
      expect(saved.status).toBe(201)
    }
  }
  client.provider.destroy()
  await db.query(
    `UPDATE checkpoints SET created_at = created_at - interval '40 days' WHERE doc_id = $1`,
    [docId],
  )
  return { docId, seqs }
}

const readPrunedSeq = async (db: pg.Client, docId: string): Promise<number> => {
  const { rows } = await db.query<{ seq: string }>(
    'SELECT history_pruned_seq AS seq FROM documents WHERE id = $1',
    [docId],
  )
  return Number(rows[0]?.seq ?? 0)
}

const scrapeCounter = async (server: TestServer, series: string): Promise<number> => {
  const body = await (await fetch(`${server.url}/metrics`)).text()
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

describe('history retention on a running node', () => {
  let server: TestServer
  let owner: ApiUser
  let db: pg.Client

  beforeAll(async () => {
    server = await startTestServer({
      store: 'postgres',
      flags: { auth: 'required', historyPruneIntervalMs: '1000' },
    })
    owner = await ApiUser.signUp(server.url, 'Rhea')
    db = new pg.Client({ connectionString: server.databaseUrl as string })
    await db.connect()
  })
  afterAll(async () => {
    await db.end()
    await server.dispose()
  })

  it('prunes on its own timer and counts what it deleted in /metrics', async () => {
    expect(await scrapeCounter(server, 'quire_history_pruned_total{kind="updates"}')).toBe(0)
    const { docId, seqs } = await writeOldDocument(server, owner, db)

    await waitUntil(
      async () => (await readPrunedSeq(db, docId)) >= (seqs[2] ?? Infinity),
      'the node prunes the old history',
      20_000,
    )
    await waitUntil(
      async () => (await scrapeCounter(server, 'quire_history_pruned_total{kind="updates"}')) > 0,
      'the pruned updates counted',
    )
    expect(server.logs.withMessage('history pruned').length).toBeGreaterThan(0)
  })
})

describe('quire history prune and the history API after pruning', () => {
  let server: TestServer
  let owner: ApiUser
  let db: pg.Client

  beforeAll(async () => {
    server = await startTestServer({ store: 'postgres', flags: { auth: 'required' } })
    owner = await ApiUser.signUp(server.url, 'Tove')
    db = new pg.Client({ connectionString: server.databaseUrl as string })
    await db.connect()
  })
  afterAll(async () => {
    await db.end()
    await server.dispose()
  })

  it('prunes from the command line; pruned versions answer 410, kept ones still open', async () => {
    const { docId, seqs } = await writeOldDocument(server, owner, db)
    const [one, two, three, four] = seqs as [number, number, number, number]

    const pruned = await runQuire([
      'history',
      'prune',
      '--json',
      '--database-url',
      server.databaseUrl as string,
    ])
    expect(pruned.code).toBe(0)
    expect(JSON.parse(pruned.stdout)).toMatchObject({ isBusy: false })
    expect(await readPrunedSeq(db, docId)).toBe(three)

    const version = (seq: number) => owner.call('GET', `/api/documents/${docId}/versions/${seq}`)
    const opened = async (seq: number): Promise<string> => {
      const response = await version(seq)
      expect(response.status).toBe(200)
      const doc = new Y.Doc()
      Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()))
      return contentOf(doc)
    }
    // Named versions stay; the state between them is gone for good (410).
    expect(await opened(one)).toBe('<paragraph>one</paragraph>')
    expect(await opened(three)).toBe('<paragraph>three</paragraph>')
    expect(await opened(four)).toBe('<paragraph>four</paragraph>')
    const gone = await version(two)
    expect(gone.status).toBe(410)
    expect(await gone.json()).toMatchObject({
      error: 'version removed by the history retention policy',
    })
    expect(
      (await owner.call('POST', `/api/documents/${docId}/versions/${two}/restore`)).status,
    ).toBe(410)
    expect((await version(four + 100)).status).toBe(404)
    const listed = (await (await owner.call('GET', `/api/documents/${docId}/versions`)).json()) as {
      versions: { seq: number; name: string | null }[]
    }
    expect(listed.versions.filter((v) => v.name !== null).map((v) => v.name)).toEqual([
      'three',
      'one',
    ])

    // The document opens with exactly its current content.
    const reader = owner.connect(server.wsUrl, docId)
    await whenProviderSynced(reader.provider)
    expect(contentOf(reader.doc)).toBe('<paragraph>four</paragraph>')
    reader.provider.destroy()
  })

  it('refuses a bad option with status 2', async () => {
    const result = await runQuire(['history', 'prune', '--history-retention-days', 'soon'])
    expect(result.code).toBe(2)
  })
})
