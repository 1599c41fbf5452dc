/**
 * Where the cold open of a raw history goes, embedded store: the
 * automerge-paper trace's first 20,000 edits stored as one row each, then
 * loaded (DocumentStore.loadDocument) and applied into a fresh Y.Doc in one
 * transaction, three times.
 *
 *   node --import tsx packages/bench/bench/cold-load.ts [edits]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import * as Y from 'yjs'
import { openEmbeddedStore } from '../../server/src/store/index.js'
import { buildTraceDocument } from '../src/workloads/document.js'

const edits = Number(process.argv[2] ?? 20_000)
const dir = await mkdtemp(join(tmpdir(), 'quire-cold-load-'))
const options = {
  dataDir: dir,
  logger: pino({ level: 'warn' }),
  compactAfterUpdates: 10_000_000,
  compactIntervalMs: 86_400_000,
}
const trace = await buildTraceDocument(edits)
const writer = await openEmbeddedStore(options)
await Promise.all(
  trace.updates.map((update, index) =>
    writer.appendUpdate({
      docId: 'paper',
      update,
      userId: null,
      connId: 'bench',
      receivedAtMs: Date.now(),
      busId: `bench:${index}`,
    }),
  ),
)
await writer.close()

const store = await openEmbeddedStore(options)
for (let run = 0; run < 3; run++) {
  const startedAt = performance.now()
  const stored = await store.loadDocument('paper')
  const loadedAt = performance.now()
  const doc = new Y.Doc()
  doc.transact(() => {
    for (const update of stored.updates) Y.applyUpdate(doc, update)
  })
  const appliedAt = performance.now()
  const isCorrect = doc.getText('text').toString() === trace.text
  console.log(
    `load ${Math.round(loadedAt - startedAt)} ms (${stored.updates.length} updates), ` +
      `apply ${Math.round(appliedAt - loadedAt)} ms, text ${isCorrect ? 'correct' : 'WRONG'}`,
  )
}
await store.close()
await rm(dir, { recursive: true, force: true })
