/**
 * `npm run bench`: the same workloads, one server at a time, against Quire
 * (embedded store; PostgreSQL + Redis), @hocuspocus/server and
 * @y/websocket-server. Writes bench/results/compare.{json,md} and
 * compare-latency.svg (compare-quick.* with --quick).
 *
 *   npm run bench                                   # everything, 3 runs each, medians
 *   npm run bench -- --quick                        # 1 short run of each, smaller sizes
 *   npm run bench -- --servers hocuspocus,y-websocket --workloads fanout,memory
 *
 * PostgreSQL from QUIRE_BENCH_ADMIN_DATABASE_URL (a fresh database per
 * server, dropped after), Redis from QUIRE_BENCH_REDIS_URL (a fresh prefix).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { SERVER_KINDS, type ServerKind } from './client/adapters.js'
import { describeMachine, readServerVersions } from './machine.js'
import { renderMarkdown } from './report/markdown.js'
import { renderLatencyChart } from './report/svg.js'
import { type BenchResults, durabilityKey, type Measured } from './results.js'
import {
  hasTaskset,
  launchServer,
  pinGenerator,
  QUIRE_BENCH_FLAGS,
  QUIRE_ENTRY_KIND,
  REPO_ROOT,
  type RunningServer,
} from './servers/launch.js'
import { createStorage } from './servers/storage.js'
import { medianOf } from './stats.js'
import { type DocumentParams, runDocument } from './workloads/document.js'
import { type DurabilityParams, runDurability } from './workloads/durability.js'
import { type FanOutParams, runFanOut } from './workloads/fan-out.js'
import { type MemoryParams, runMemory } from './workloads/memory.js'

const WORKLOADS = ['fanout', 'memory', 'document', 'durability'] as const
type Workload = (typeof WORKLOADS)[number]

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    servers: { type: 'string' },
    workloads: { type: 'string' },
  },
})
const isQuick = flags.quick === true
const RUNS = Number(flags.runs ?? (isQuick ? 1 : 3))
const servers = (flags.servers?.split(',') ?? [...SERVER_KINDS]) as ServerKind[]
const workloads = (flags.workloads?.split(',') ?? [...WORKLOADS]) as Workload[]
for (const kind of servers)
  if (!SERVER_KINDS.includes(kind)) throw new Error(`unknown server ${kind}`)
for (const name of workloads)
  if (!WORKLOADS.includes(name)) throw new Error(`unknown workload ${name}`)

const FAN_OUT_MS = isQuick ? 5_000 : 15_000
const FAN_OUT: readonly FanOutParams[] = [
  { name: '50c-50w-1hz', clients: 50, writers: 50, editsPerSecond: 1, durationMs: FAN_OUT_MS },
  { name: '500c-10w-2hz', clients: 500, writers: 10, editsPerSecond: 2, durationMs: FAN_OUT_MS },
  { name: '200c-20w-5hz', clients: 200, writers: 20, editsPerSecond: 5, durationMs: FAN_OUT_MS },
]
const MEMORY: MemoryParams = {
  documents: isQuick ? 200 : 1000,
  textBytes: 2048,
  unloadWaitMs: 20_000,
}
/** Quire unloads an idle room after --room-idle-ms (30 s by default); shorter, to see it go. */
const MEMORY_QUIRE_ARGS = ['--room-idle-ms', '2000']
const DOCUMENT: DocumentParams = {
  ...(isQuick ? { traceTxns: 20_000 } : {}),
  stormSizes: [100, 300],
  runs: RUNS,
}
const DURABILITY: readonly DurabilityParams[] = [2000, 4000].map((editsPerSecond) => ({
  clients: 10,
  editsPerSecond,
  durationMs: isQuick ? 4_000 : 10_000,
}))

const log = (text: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`)
}

/** Runs `work` on a fresh server (and fresh storage) `RUNS` times; medians the results. */
const measure = async <T extends object>(
  kind: ServerKind,
  what: string,
  work: (server: RunningServer) => Promise<T>,
  args: readonly string[] = [],
): Promise<Measured<T>> => {
  const runs: T[] = []
  for (let run = 0; run < RUNS; run++) {
    const storage = await createStorage(kind)
    try {
      const server = await launchServer(kind, { args: [...storage.args, ...args] })
      try {
        runs.push(await work(server))
      } catch (err) {
        throw new Error(`${String(err)}\nserver output:\n${server.output().slice(-2000)}`, {
          cause: err,
        })
      } finally {
        await server.stop()
      }
    } finally {
      await storage.dispose()
    }
    log(`${what} ${kind} run ${run + 1}: ${JSON.stringify(runs.at(-1)).slice(0, 300)}`)
  }
  return { runs, median: medianOf(runs) }
}

const main = async (): Promise<void> => {
  pinGenerator()
  const results: BenchResults = {
    measuredAt: new Date().toISOString(),
    isQuick,
    runsPerMeasurement: RUNS,
    machine: describeMachine(),
    versions: readServerVersions(),
    isPinned: hasTaskset,
    servers,
    quireFlags: QUIRE_BENCH_FLAGS,
    quireEntry: QUIRE_ENTRY_KIND,
    fanOut: { params: workloads.includes('fanout') ? FAN_OUT : [], results: {} },
    failures: [],
  }
  const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work()
    } catch (err) {
      log(`FAILED ${what}: ${String(err)}`)
      results.failures.push({ what, error: err instanceof Error ? err.message : String(err) })
    }
  }

  if (workloads.includes('fanout')) {
    for (const params of FAN_OUT) {
      const row = (results.fanOut.results[params.name] =
        {} as BenchResults['fanOut']['results'][string])
      for (const kind of servers) {
        await attempt(`fan-out ${params.name} ${kind}`, async () => {
          row[kind] = await measure(kind, `fan-out ${params.name}`, (s) => runFanOut(s, params))
        })
      }
    }
  }
  if (workloads.includes('memory')) {
    const memory = { params: MEMORY, results: {} as NonNullable<BenchResults['memory']>['results'] }
    Object.assign(results, { memory })
    for (const kind of servers) {
      await attempt(`memory ${kind}`, async () => {
        const args = kind.startsWith('quire') ? MEMORY_QUIRE_ARGS : []
        memory.results[kind] = await measure(kind, 'memory', (s) => runMemory(s, MEMORY), args)
      })
    }
  }
  if (workloads.includes('document')) {
    const document = {
      params: DOCUMENT,
      results: {} as NonNullable<BenchResults['document']>['results'],
    }
    Object.assign(results, { document })
    for (const kind of servers) {
      await attempt(`document ${kind}`, async () => {
        const storage = await createStorage(kind)
        try {
          document.results[kind] = await runDocument(kind, storage, DOCUMENT)
          log(`document ${kind}: ${JSON.stringify(document.results[kind])}`)
        } finally {
          await storage.dispose()
        }
      })
    }
  }
  if (workloads.includes('durability')) {
    const durability = {
      params: DURABILITY,
      results: {} as NonNullable<BenchResults['durability']>['results'],
    }
    Object.assign(results, { durability })
    for (const params of DURABILITY) {
      const row = (durability.results[durabilityKey(params)] = {})
      for (const kind of servers.filter((k) => k.startsWith('quire'))) {
        await attempt(`durability ${durabilityKey(params)} ${kind}`, async () => {
          Object.assign(row, {
            [kind]: await measure(kind, 'durability', (s) => runDurability(s, params)),
          })
        })
      }
    }
  }

  const dir = join(REPO_ROOT, 'bench/results')
  const base = isQuick ? 'compare-quick' : 'compare'
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(join(dir, `${base}-latency.svg`), renderLatencyChart(results))
  const markdown = renderMarkdown(results, `${base}-latency.svg`, 'compare-analysis.md')
  await writeFile(join(dir, `${base}.md`), markdown)
  process.stdout.write(markdown)
  if (results.failures.length > 0) process.exitCode = 1
}

const watchdog = setTimeout(
  () => {
    log('the benchmark took over 3 hours: stopping')
    process.exit(2)
  },
  3 * 60 * 60 * 1000,
)
watchdog.unref()
await main()
