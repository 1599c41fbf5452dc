/**
 * Replays the full automerge-paper trace (259,778 edits) through a real
 * `quire serve` process with 1 and 8 clients, on the embedded store and on
 * PostgreSQL, and writes the figures to bench/results/replay.{json,md}.
 *
 *   npm run bench:replay                 # everything (several minutes)
 *   npm run bench:replay -- --quick      # first 20,000 transactions only
 *
 * The server is pinned to CPU 0 and this process (the load generator) to
 * CPU 1 when `taskset` exists: unpinned runs on two cores swing widely.
 * PostgreSQL is taken from QUIRE_BENCH_ADMIN_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres); a fresh database is created
 * for each run and dropped after.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openPgliteClient } from '../../server/src/store/index.js'
import { createReplayPlan, loadTrace, type ReplayResult, runReplay } from '../src/index.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const ADMIN_URL =
  process.env.QUIRE_BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const isQuick = process.argv.includes('--quick')
const TRACE = 'automerge-paper'

interface Row {
  readonly store: 'embedded' | 'postgres'
  readonly clients: number
  readonly result: ReplayResult
  /** Bytes in the update log and checkpoints for the document, read from the database. */
  readonly logBytes: number
  readonly checkpointBytes: number
  readonly updateRows: number
}

const hasTaskset = (): boolean => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const startServer = async (args: string[]): Promise<{ child: ChildProcess; wsUrl: string }> => {
  const command = [
    process.execPath,
    '--import',
    'tsx',
    join(REPO_ROOT, 'packages/cli/src/main.ts'),
    'serve',
    '--port',
    '0',
    '--log-level',
    'warn',
    '--auth',
    'none',
    ...args,
  ]
  const pinned = hasTaskset() ? ['taskset', '-c', '0', ...command] : command
  const child = spawn(pinned[0] as string, pinned.slice(1), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on http:\/\/(\S+)/.exec(output)
      if (match?.[1] !== undefined) resolve(`ws://${match[1]}`)
    })
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)))
  })
  return { child, wsUrl }
}

const stopServer = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

const measureStorage = async (
  query: (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>,
  docId: string,
): Promise<{ logBytes: number; checkpointBytes: number; updateRows: number }> => {
  const [log] = await query(
    'SELECT count(*)::int AS rows, coalesce(sum(octet_length(data)), 0)::bigint AS bytes FROM updates WHERE doc_id = $1',
    [docId],
  )
  const [checkpoint] = await query(
    'SELECT coalesce(sum(octet_length(state)), 0)::bigint AS bytes FROM checkpoints WHERE doc_id = $1',
    [docId],
  )
  return {
    logBytes: Number(log?.bytes ?? 0),
    checkpointBytes: Number(checkpoint?.bytes ?? 0),
    updateRows: Number(log?.rows ?? 0),
  }
}

const runOne = async (store: Row['store'], clients: number): Promise<Row> => {
  const trace = await loadTrace(TRACE)
  const plan = createReplayPlan(trace, { clients, ...(isQuick ? { limitTxns: 20_000 } : {}) })
  const docId = `bench-${store}-${clients}-${randomBytes(3).toString('hex')}`
  let serverArgs: string[]
  let cleanup: () => Promise<void>
  let storage: () => Promise<{ logBytes: number; checkpointBytes: number; updateRows: number }>
  if (store === 'postgres') {
    const name = `quire_bench_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client({ connectionString: ADMIN_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    const url = new URL(ADMIN_URL)
    url.pathname = `/${name}`
    serverArgs = ['--database-url', url.toString()]
    storage = async () => {
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        return await measureStorage(
          async (text, params) =>
            (await client.query(text, params)).rows as Record<string, unknown>[],
          docId,
        )
      } finally {
        await client.end()
      }
    }
    cleanup = async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'quire-bench-'))
    serverArgs = ['--data-dir', dir]
    storage = async () => {
      const client = await openPgliteClient({ directory: join(dir, 'pglite') })
      try {
        return await measureStorage((text, params) => client.query(text, params as never), docId)
      } finally {
        await client.close()
      }
    }
    cleanup = () => rm(dir, { recursive: true, force: true })
  }

  const { child, wsUrl } = await startServer(serverArgs)
  try {
    process.stderr.write(
      `${store}, ${clients} client(s): replaying ${plan.steps.length} transactions\n`,
    )
    const result = await runReplay(plan, { servers: [wsUrl], docId, timeoutMs: 30 * 60_000 })
    await stopServer(child)
    const stored = await storage()
    process.stderr.write(`  ${JSON.stringify({ ...result, latency: undefined })}\n`)
    return { store, clients, result, ...stored }
  } finally {
    if (child.exitCode === null) await stopServer(child)
    await cleanup()
  }
}

const formatTable = (rows: readonly Row[], totalEdits: number): string => {
  const lines = [
    `# Replay benchmark: ${TRACE}${isQuick ? ' (first 20,000 transactions)' : ''}`,
    '',
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node.js ${process.version}.`,
    `Server pinned to CPU 0, load generator (all clients, one process) to CPU 1: ${hasTaskset() ? 'yes' : 'no (taskset missing)'}.`,
    `Reproduce: \`npm run bench:replay${isQuick ? ' -- --quick' : ''}\`. ${totalEdits} single-character edits per run.`,
    'Throughput counts from the first edit sent to the last one acknowledged as saved (durable in the database).',
    'Fan-out latency: send on one client to arrival on each other client (only with several clients).',
    '',
    '| store | clients | converged | edits/s | time to all saved | fan-out p50 | p99 | max | log rows | log bytes/edit | checkpoint bytes |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of rows) {
    const r = row.result
    const fanOut =
      r.latency.count === 0 ? ['–', '–', '–'] : [`${r.p50Ms} ms`, `${r.p99Ms} ms`, `${r.maxMs} ms`]
    lines.push(
      `| ${row.store} | ${row.clients} | ${r.converged ? 'yes' : 'NO'} | ${r.editsPerSec} | ${(r.durationMs / 1000).toFixed(1)} s | ${fanOut.join(' | ')} | ${row.updateRows} | ${(row.logBytes / r.edits).toFixed(1)} | ${row.checkpointBytes} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

const main = async (): Promise<void> => {
  if (hasTaskset())
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
  const rows: Row[] = []
  for (const store of ['embedded', 'postgres'] as const) {
    for (const clients of [1, 8]) rows.push(await runOne(store, clients))
  }
  const totalEdits = rows[0]?.result.edits ?? 0
  const dir = join(REPO_ROOT, 'bench/results')
  await mkdir(dir, { recursive: true })
  const suffix = isQuick ? '-quick' : ''
  await writeFile(
    join(dir, `replay${suffix}.json`),
    `${JSON.stringify({ trace: TRACE, quick: isQuick, node: process.version, cpu: cpus()[0]?.model, rows }, null, 2)}\n`,
  )
  const table = formatTable(rows, totalEdits)
  await writeFile(join(dir, `replay${suffix}.md`), table)
  process.stdout.write(table)
  if (rows.some((row) => !row.result.converged)) process.exitCode = 1
}

await main()
