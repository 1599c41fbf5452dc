/**
 * Fault injection for the cluster tests: a Redis server of the test's own
 * (so restarting it hurts no one else), PostgreSQL stopped and resumed with
 * signals, process memory, and typing clients that remember what they typed.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findFreePort, ReplayClient } from '@quire/tools'
import { Redis } from 'ioredis'
import { waitUntil } from './wait.js'

/** A redis-server child process on its own port, without persistence. */
export class TestRedis {
  private child: ChildProcess | null = null

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Starts a server; `extraArgs` are passed to redis-server (e.g. `--timeout 1`). */
  static async start(extraArgs: readonly string[] = []): Promise<TestRedis> {
    const redis = new TestRedis(
      await findFreePort(),
      await mkdtemp(join(tmpdir(), 'quire-redis-')),
      extraArgs,
    )
    await redis.startProcess()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Stops the server without saving (it keeps nothing on disk), then starts it again empty. */
  async restart(): Promise<void> {
    await this.stopProcess()
    await this.startProcess()
  }

  async stop(): Promise<void> {
    await this.stopProcess()
    await rm(this.dir, { recursive: true, force: true })
  }

  private async startProcess(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    )
    await waitUntil(async () => {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      // Refused connections are expected until the server listens.
      probe.on('error', () => undefined)
      try {
        await probe.connect()
        return (await probe.ping()) === 'PONG'
      } catch {
        return false
      } finally {
        probe.disconnect()
      }
    }, `redis-server on port ${this.port}`)
  }

  private async stopProcess(): Promise<void> {
    const child = this.child
    if (child === null || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    this.child = null
  }
}

/** Process ids of the PostgreSQL server (postmaster and its children). */
const postgresPids = (): number[] =>
  execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number)

/**
 * Freezes PostgreSQL with SIGSTOP; the returned function thaws it with
 * SIGCONT. Every process of the server stops, as when its host hangs.
 */
export const freezePostgres = (): (() => void) => {
  const pids = postgresPids()
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  return () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // The process ended while stopped; nothing to resume.
      }
    }
  }
}

/** Resident set size of a process, in bytes (from /proc). */
export const readRssBytes = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
  return Number(kb ?? 0) * 1024
}

/**
 * A client that types unique tokens into one document until stopped, and
 * remembers each token, so a test can check that every one of them made it.
 */
export class TypingClient {
  readonly client: ReplayClient
  readonly typed: string[] = []
  private timer: NodeJS.Timeout | null = null

  constructor(
    serverUrl: string,
    docId: string,
    readonly name: string,
  ) {
    this.client = new ReplayClient(serverUrl, docId)
  }

  /** Types one token every `intervalMs` (also while disconnected: the provider resends on reconnect). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.typeOne(), intervalMs)
  }

  typeOne(): string {
    const token = `<${this.name}.${this.typed.length}>`
    const text = this.client.doc.getText('text')
    // Only at either end: an insert inside the text could split another
    // client's token and hide it from the check.
    text.insert(Math.random() < 0.5 ? 0 : text.length, token)
    this.typed.push(token)
    return token
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  destroy(): void {
    this.stop()
    this.client.destroy()
  }
}

/** Tokens of `typed` missing from `text`. */
export const missingTokens = (text: string, typed: readonly string[]): string[] =>
  typed.filter((token) => !text.includes(token))
