/**
 * How fast history can be scrubbed: the automerge-paper trace (259,778
 * single-character edits) stored in PostgreSQL as a document's update log,
 * one row per edit, with a checkpoint every 1,000 updates as the compactor
 * makes them (`--compact-after-updates` default; gc'd full state). Then the
 * state at many random seqs is rebuilt with `loadStateAt` (what
 * `GET /api/documents/:id/versions/:seq` answers), and the changes of
 * random versions against the checkpoint before them are described
 * (`GET .../versions/:seq/changes?since=`).
 *
 *   npm run bench:history                 # 300 random seqs, 30 changes
 *   npm run bench:history -- --quick      # first 50,000 edits, 100 seqs
 *
 * PostgreSQL from QUIRE_BENCH_ADMIN_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres); a fresh database per run,
 * dropped after. Results go to bench/results/history.md and .json.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import * as Y from 'yjs'
import { describeChanges } from '../../server/src/history/index.js'
import {
  createPgClient,
  loadHistoryWindow,
  loadStateAt,
  migrate,
} from '../../server/src/store/index.js'
import { loadTrace, precomputeSequentialUpdates } from '../src/index.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ADMIN_URL =
  process.env.QUIRE_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const isQuick = process.argv.includes('--quick')
const TRACE = 'automerge-paper'
const CHECKPOINT_EVERY_UPDATES = 1_000
const STATE_SAMPLES = isQuick ? 100 : 300
const CHANGES_SAMPLES = isQuick ? 10 : 30
const LIMIT_TXNS = isQuick ? 50_000 : undefined
const DOC_ID = 'history-bench'

interface Summary {
  readonly samples: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly maxMs: number
  readonly meanMs: number
}

const summarise = (times: number[]): Summary => {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q: number): number =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN)
  return {
    samples: sorted.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    maxMs: round(sorted[sorted.length - 1] ?? NaN),
    meanMs: round(sorted.reduce((sum, t) => sum + t, 0) / sorted.length),
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10

/** A small seeded generator (mulberry32), so runs pick the same seqs. */
const randomFrom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Writes the trace as the log of `DOC_ID`, with checkpoints as the compactor makes them. */
const storeTrace = async (
  databaseUrl: string,
  updates: readonly Uint8Array[],
): Promise<{ checkpoints: number; checkpointBytes: number }> => {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const doc = new Y.Doc()
  let checkpoints = 0
  let checkpointBytes = 0
  try {
    await client.query('BEGIN')
    await client.query('INSERT INTO documents (id, last_seq) VALUES ($1, $2)', [
      DOC_ID,
      updates.length,
    ])
    const chunk = CHECKPOINT_EVERY_UPDATES
    const startedAt = Date.now()
    for (let start = 0; start < updates.length; start += chunk) {
      const seqs: number[] = []
      const data: Buffer[] = []
      const times: Date[] = []
      for (let i = start; i < Math.min(start + chunk, updates.length); i++) {
        const update = updates[i] as Uint8Array
        seqs.push(i + 1)
        data.push(Buffer.from(update))
        times.push(new Date(startedAt + i * 200))
        Y.applyUpdate(doc, update)
      }
      await client.query(
        `INSERT INTO updates (doc_id, seq, data, user_id, received_at, bus_id)
           SELECT $1, t.seq, t.data, 'bench-author', t.at, 'seed-' || t.seq
             FROM unnest($2::bigint[], $3::bytea[], $4::timestamptz[]) AS t(seq, data, at)`,
        [DOC_ID, seqs, data, times],
      )
      const seq = start + seqs.length
      if (seqs.length === chunk) {
        const state = Y.encodeStateAsUpdate(doc)
        await client.query(
          'INSERT INTO checkpoints (doc_id, seq, state, state_vector) VALUES ($1, $2, $3, $4)',
          [DOC_ID, seq, state, Y.encodeStateVector(doc)],
        )
        checkpoints++
        checkpointBytes += state.byteLength
      }
    }
    await client.query('UPDATE documents SET last_checkpoint_seq = $2 WHERE id = $1', [
      DOC_ID,
      Math.floor(updates.length / chunk) * chunk,
    ])
    await client.query('COMMIT')
  } finally {
    doc.destroy()
    await client.end()
  }
  return { checkpoints, checkpointBytes }
}

const main = async (): Promise<void> => {
  const trace = await loadTrace(TRACE)
  if (trace.kind !== 'sequential') throw new Error(`${TRACE} is not a sequential trace`)
  const plan = precomputeSequentialUpdates(trace, 1, { limitTxns: LIMIT_TXNS })
  const updates = plan.steps.map((step) => step.update)

  const dbName = `quire_bench_history_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  const dbUrl = new URL(ADMIN_URL)
  dbUrl.pathname = `/${dbName}`
  const sql = createPgClient({ connectionString: dbUrl.toString() })
  try {
    await migrate(sql)
    const storeStartedAt = performance.now()
    const stored = await storeTrace(dbUrl.toString(), updates)
    const storeMs = performance.now() - storeStartedAt
    console.log(`stored ${updates.length} updates, ${stored.checkpoints} checkpoints`)

    // Warm up (JIT, connection pool), then sample.
    const random = randomFrom(0x5eed)
    const pick = (): number => 1 + Math.floor(random() * updates.length)
    for (let i = 0; i < 5; i++) await loadStateAt(sql, DOC_ID, pick())
    const stateTimes: number[] = []
    let stateBytes = 0
    for (let i = 0; i < STATE_SAMPLES; i++) {
      const seq = pick()
      const startedAt = performance.now()
      const state = await loadStateAt(sql, DOC_ID, seq)
      stateTimes.push(performance.now() - startedAt)
      if (state === null) throw new Error(`no state at ${seq}`)
      stateBytes = Math.max(stateBytes, state.byteLength)
    }
    const lastState = await loadStateAt(sql, DOC_ID, updates.length)
    const check = new Y.Doc()
    Y.applyUpdate(check, lastState as Uint8Array)
    if (check.getText('text').toString() !== plan.expectedText) {
      throw new Error('the state at the last seq is not the trace text')
    }

    const changesTimes: number[] = []
    for (let i = 0; i < CHANGES_SAMPLES; i++) {
      const seq = Math.max(2, pick())
      const since = Math.max(
        1,
        Math.floor((seq - 1) / CHECKPOINT_EVERY_UPDATES) * CHECKPOINT_EVERY_UPDATES,
      )
      const startedAt = performance.now()
      const found = await loadHistoryWindow(sql, DOC_ID, {
        seq,
        since: since < seq ? since : seq - 1,
        maxUpdates: 20_000,
      })
      if (found.reason !== 'loaded') throw new Error(`no window at ${seq}: ${found.reason}`)
      await describeChanges(found.window, seq, since < seq ? since : seq - 1)
      changesTimes.push(performance.now() - startedAt)
    }

    const result = {
      measuredAt: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}`,
      trace: TRACE,
      updates: updates.length,
      checkpointEveryUpdates: CHECKPOINT_EVERY_UPDATES,
      checkpoints: stored.checkpoints,
      meanCheckpointBytes: Math.round(stored.checkpointBytes / Math.max(1, stored.checkpoints)),
      storeSeconds: round(storeMs / 1000),
      largestStateBytes: stateBytes,
      loadStateAt: summarise(stateTimes),
      changes: summarise(changesTimes),
    }
    await writeResults(result)
    console.log(JSON.stringify(result, null, 2))
  } finally {
    await sql.close()
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.end()
  }
}

const writeResults = async (result: {
  measuredAt: string
  machine: string
  updates: number
  checkpoints: number
  meanCheckpointBytes: number
  largestStateBytes: number
  loadStateAt: Summary
  changes: Summary
}): Promise<void> => {
  const dir = `${REPO_ROOT}bench/results/`
  await mkdir(dir, { recursive: true })
  const name = isQuick ? 'history-quick' : 'history'
  await writeFile(`${dir}${name}.json`, `${JSON.stringify(result, null, 2)}\n`)
  const row = (label: string, s: Summary): string =>
    `| ${label} | ${s.samples} | ${s.p50Ms} ms | ${s.p95Ms} ms | ${s.maxMs} ms | ${s.meanMs} ms |`
  await writeFile(
    `${dir}${name}.md`,
    [
      '# History scrubbing benchmark: automerge-paper',
      '',
      `Measured ${result.measuredAt} on ${result.machine}.`,
      `Reproduce: \`npm run bench:history${isQuick ? ' -- --quick' : ''}\`.`,
      `${result.updates} updates stored one row each in PostgreSQL, a checkpoint every`,
      `${CHECKPOINT_EVERY_UPDATES} (${result.checkpoints} checkpoints, ${result.meanCheckpointBytes} bytes on average).`,
      'Random seqs over the whole log; times include the database reads.',
      '',
      '| operation | samples | p50 | p95 | max | mean |',
      '|---|---:|---:|---:|---:|---:|',
      row('state at a seq (`loadStateAt`, GET versions/:seq)', result.loadStateAt),
      row('changes since the checkpoint before (GET versions/:seq/changes?since=)', result.changes),
      '',
      `Largest state returned: ${result.largestStateBytes} bytes.`,
      '',
    ].join('\n'),
  )
}

await main()
