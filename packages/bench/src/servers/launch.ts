/**
 * Starting and stopping the benchmarked servers. Each server is its own
 * process group, pinned to CPU 0 with taskset, with the memory probe loaded
 * (probe.ts); every group still alive when the benchmark exits, however it
 * exits, is killed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ServerKind } from '../client/adapters.js'
import type { ProbeStats } from './probe.js'

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url))
/**
 * How Quire is started: `build` runs the compiled JavaScript, as production
 * does (`npm run bench` builds it first); otherwise the TypeScript source
 * through tsx, which needs no build (the CI smoke test) but carries tsx's
 * transform and somewhat more heap.
 */
export const QUIRE_ENTRY_KIND: 'build' | 'source' =
  process.env.QUIRE_BENCH_ENTRY === 'build' ? 'build' : 'source'
const QUIRE_ENTRY = fileURLToPath(
  new URL(
    QUIRE_ENTRY_KIND === 'build' ? '../../../cli/dist/main.js' : '../../../cli/src/main.ts',
    import.meta.url,
  ),
)
const ENTRIES: Readonly<Record<ServerKind, string>> = {
  'quire-embedded': QUIRE_ENTRY,
  'quire-postgres': QUIRE_ENTRY,
  hocuspocus: fileURLToPath(new URL('./hocuspocus-entry.ts', import.meta.url)),
  'y-websocket': fileURLToPath(new URL('./y-websocket-entry.ts', import.meta.url)),
}
/** The CPU the servers run on; the load generator takes `GENERATOR_CPU`. */
export const SERVER_CPU = 0
export const GENERATOR_CPU = 1
const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000

/**
 * Flags every benchmarked Quire node gets: anonymous clients, and no rate
 * limits or per-address socket cap, since one load generator on one address
 * plays every client.
 */
export const QUIRE_BENCH_FLAGS: readonly string[] = [
  '--auth',
  'none',
  '--rate-limit-messages-per-s',
  '0',
  '--rate-limit-bytes-per-s',
  '0',
  '--document-rate-limit-messages-per-s',
  '0',
  '--max-sockets-per-address',
  '100000',
  '--log-level',
  'warn',
]

const liveGroups = new Set<number>()
const killLiveGroups = (): void => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  liveGroups.clear()
}
process.on('exit', killLiveGroups)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLiveGroups()
    process.exit(130)
  })
}

/** Whether taskset exists here (pinning is skipped, and said so, without it). */
export const hasTaskset = ((): boolean => {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

/** Pins this process and all its threads to `GENERATOR_CPU`. */
export const pinGenerator = (): void => {
  if (!hasTaskset) return
  execFileSync('taskset', ['-a', '-p', '-c', String(GENERATOR_CPU), String(process.pid)], {
    stdio: 'ignore',
  })
}

/** A free TCP port on 127.0.0.1. */
export const findFreePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const CLOCK_TICKS_PER_S = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  } catch {
    return 100
  }
})()

/** User plus system CPU time of process `pid` so far, from /proc/<pid>/stat, in ms. */
export const readCpuTimeMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1000) / CLOCK_TICKS_PER_S
}

/** A running server process. */
export interface RunningServer {
  readonly kind: ServerKind
  readonly pid: number
  /** `ws://127.0.0.1:<port>` */
  readonly wsBase: string
  readonly httpBase: string
  /** Heap and RSS after forced garbage collection. */
  stats(): Promise<ProbeStats>
  cpuTimeMs(): number
  /** Everything the process wrote, for error messages. */
  output(): string
  /** SIGTERM to the group, SIGKILL after a grace period; resolves once exited. */
  stop(): Promise<void>
}

/** Options of `launchServer`. */
export interface LaunchOptions {
  /** Extra arguments (Quire: storage and tuning flags). */
  readonly args?: readonly string[]
}

/** Starts one server on free ports and resolves once it listens. */
export const launchServer = async (
  kind: ServerKind,
  options: LaunchOptions = {},
): Promise<RunningServer> => {
  const port = await findFreePort()
  const probePort = await findFreePort()
  const isQuire = kind === 'quire-embedded' || kind === 'quire-postgres'
  const node = [
    process.execPath,
    '--expose-gc',
    '--import',
    'tsx',
    '--import',
    PROBE,
    ENTRIES[kind],
  ]
  const args = isQuire
    ? [...node, 'serve', '--port', String(port), ...QUIRE_BENCH_FLAGS, ...(options.args ?? [])]
    : node
  const command = hasTaskset ? ['taskset', '-c', String(SERVER_CPU), ...args] : args
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), BENCH_PROBE_PORT: String(probePort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const pid = child.pid
  if (pid === undefined) throw new Error(`${kind}: spawn failed`)
  liveGroups.add(pid)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await waitForReady(child, () => output, isQuire ? /Quire is listening on/ : /BENCH_READY/)
  } catch (err) {
    await stopGroup(pid, exited)
    throw err
  }
  return {
    kind,
    pid,
    wsBase: `ws://127.0.0.1:${port}`,
    httpBase: `http://127.0.0.1:${port}`,
    stats: async () => {
      const response = await fetch(`http://127.0.0.1:${probePort}/stats`)
      return (await response.json()) as ProbeStats
    },
    cpuTimeMs: () => readCpuTimeMs(pid),
    output: () => output,
    stop: () => stopGroup(pid, exited),
  }
}

const waitForReady = (child: ChildProcess, output: () => string, ready: RegExp): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not start in ${START_TIMEOUT_MS} ms:\n${output()}`))
    }, START_TIMEOUT_MS)
    const check = (): void => {
      if (!ready.test(output())) return
      clearTimeout(timer)
      resolve()
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}) before listening:\n${output()}`))
    })
  })

const stopGroup = async (pid: number, exited: Promise<void>): Promise<void> => {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-pid, name)
    } catch {
      // The group is gone already.
    }
  }
  signal('SIGTERM')
  const timer = setTimeout(() => signal('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
  // Anything else left in the group (there should be nothing).
  signal('SIGKILL')
  liveGroups.delete(pid)
}

/** Reads Quire's own figures from `/metrics` (Prometheus text), by metric name. */
export const readQuireMetrics = async (
  server: RunningServer,
  names: readonly string[],
): Promise<Record<string, number>> => {
  const text = await (await fetch(`${server.httpBase}/metrics`)).text()
  const values: Record<string, number> = {}
  for (const name of names) {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
    if (match?.[1] !== undefined) values[name] = Number(match[1])
  }
  return values
}
