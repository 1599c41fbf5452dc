/**
 * Quire nodes for tests: in-process (fast, inspectable) or as a child
 * process of the real `quire serve` command (for signals and kill -9).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import { inject } from 'vitest'
import {
  createLogger,
  type QuireServer,
  resolveServeConfig,
  type ServeOptionName,
  startQuireServer,
} from '@quire/server'

/** Which store a test node uses. */
export type StoreKind = 'embedded' | 'postgres'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** A temporary folder, removed by the returned function. */
export const makeTempDir = async (
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> => {
  const path = await mkdtemp(join(tmpdir(), `quire-${prefix}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Log lines a node wrote, parsed, for assertions on what operators see. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = []
  readonly raw: string[] = []

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      this.raw.push(line)
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        this.lines.push({ unparsed: line })
      }
    }
    callback()
  }

  /** Lines whose `msg` is `message`. */
  withMessage(message: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line.msg === message)
  }
}

/** An in-process node plus what a test needs to inspect and clean up. */
export interface TestServer extends QuireServer {
  readonly logs: LogCapture
  readonly dataDir: string
  readonly databaseUrl: string | undefined
  /** Closes the node and removes its temporary data. */
  dispose(): Promise<void>
}

/** Options of `startTestServer`. */
export interface TestServerOptions {
  readonly store: StoreKind
  /** Flags as `quire serve` takes them, by option name. */
  readonly flags?: Partial<Record<ServeOptionName, string>>
  /** Reuse a data folder (embedded store) across restarts. */
  readonly dataDir?: string
}

/** Starts an in-process node on a free port. */
export const startTestServer = async (options: TestServerOptions): Promise<TestServer> => {
  const temp = options.dataDir === undefined ? await makeTempDir('data') : null
  const dataDir = options.dataDir ?? (temp?.path as string)
  const databaseUrl = options.store === 'postgres' ? inject('databaseUrl') : undefined
  const config = resolveServeConfig(
    {
      port: '0',
      dataDir,
      logLevel: 'debug',
      // Protocol-level tests connect anonymously; accounts tests set 'required'.
      auth: 'none',
      ...(databaseUrl === undefined ? {} : { databaseUrl }),
      ...options.flags,
    },
    {},
  )
  const logs = new LogCapture()
  const server = await startQuireServer(config, {
    logger: createLogger({ level: 'debug', destination: logs }),
  })
  return {
    ...server,
    logs,
    dataDir,
    databaseUrl,
    dispose: async () => {
      await server.close()
      await temp?.remove()
    },
  }
}

/** Every `quire serve` child still running: killed when the test worker exits, even after a failure. */
const liveChildren = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL')
})

/** A `quire serve` child process. */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly wsUrl: string
  readonly output: () => string
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Spawns `quire serve` from source (through tsx) and resolves once it is
 * listening. `args` are extra flags; the port is chosen by the OS unless
 * given.
 */
export const spawnServer = async (
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'packages/cli/src/main.ts'),
      'serve',
      ...(args.includes('--port') ? [] : ['--port', '0']),
      ...(args.includes('--auth') ? [] : ['--auth', 'none']),
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  liveChildren.add(child)
  child.once('exit', () => liveChildren.delete(child))
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: a node that starts after the test gave up would
      // outlive the run (the worker's exit hook does not always run).
      child.kill('SIGKILL')
      reject(new Error(`quire serve did not start within 60 s:\n${output}`))
    }, 60_000)
    const onData = (): void => {
      const match = /Quire is listening on (http:\/\/\S+)/.exec(output)
      if (match?.[1] === undefined) return
      clearTimeout(timer)
      resolve(match[1])
    }
    child.stdout?.on('data', onData)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`quire serve exited before listening:\n${output}`))
    })
  })
  return {
    child,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    output: () => output,
    exited,
    stop: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}
