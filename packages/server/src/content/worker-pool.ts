/**
 * A worker thread that runs CPU-heavy tasks off the node's event loop, one
 * at a time, behind a bounded queue and with a time limit per task. Parsing
 * an import, rendering an export or a checkpoint's HTML, and replaying a
 * stretch of history each take from milliseconds to many seconds of CPU;
 * on the node's own thread every socket it serves would wait that long.
 *
 * The worker's entry module calls `serveWorkerTasks` with its handler; the
 * pool posts `{id, task}` and waits for `{id, ok, …}`.
 */
import { parentPort, Worker } from 'node:worker_threads'
import type { Logger } from 'pino'

/**
 * Why a task did not run to its end, as `WorkerPoolError.code`:
 * - `WORKER_BUSY`: `maxQueued` tasks were already waiting; nothing was run.
 * - `WORKER_TIMEOUT`: the task ran past `timeoutMs`; the worker was stopped.
 * - `WORKER_FAILED`: the worker crashed or the handler threw a bug.
 */
export type WorkerPoolErrorCode = 'WORKER_BUSY' | 'WORKER_TIMEOUT' | 'WORKER_FAILED'

/** A task the pool could not complete; see `WorkerPoolErrorCode`. */
export class WorkerPoolError extends Error {
  readonly code: WorkerPoolErrorCode

  constructor(code: WorkerPoolErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.name = 'WorkerPoolError'
    this.code = code
  }
}

/** Whether `err` is a `WorkerPoolError` with the given code. */
export const isWorkerPoolError = (
  err: unknown,
  code?: WorkerPoolErrorCode,
): err is WorkerPoolError =>
  err instanceof WorkerPoolError && (code === undefined || err.code === code)

/**
 * A failure the handler reports on purpose (the input's fault): the pool
 * rejects with `toError(code, message)` of its options.
 */
export interface TaskFailure {
  readonly code: string
  readonly message: string
}

/** What a handler answers: a result with the buffers to move, or an expected failure. */
export type TaskOutcome<Result> =
  | { readonly ok: true; readonly result: Result; readonly transfer?: readonly ArrayBuffer[] }
  | { readonly ok: false; readonly failure: TaskFailure }

type Reply<Result> =
  | { readonly id: number; readonly ok: true; readonly result: Result }
  | {
      readonly id: number
      readonly ok: false
      readonly failure: TaskFailure | null
      readonly message: string
    }

/** Options of `createWorkerPool`. */
export interface WorkerPoolOptions {
  /** The worker's entry module (`.ts` under tsx and the test runner, `.js` when built). */
  readonly entry: URL
  /** Receives a crashed worker's error. */
  readonly logger: Logger
  /** Longest one task may run, ms; past it the worker is stopped (`WORKER_TIMEOUT`). */
  readonly timeoutMs: number
  /** Most tasks waiting behind the running one; more are refused (`WORKER_BUSY`). */
  readonly maxQueued: number
  /** How long the worker is kept without work, ms. @default 60000 */
  readonly idleMs?: number
  /** Turns a handler's expected failure into the error callers see. @default a plain Error */
  readonly toError?: (failure: TaskFailure) => Error
}

/** Runs tasks in one worker thread. */
export interface WorkerPool<Task, Result> {
  /**
   * Runs `task` once the tasks before it are done; `transfer` lists buffers
   * of `task` to move instead of copying. Rejects with `WorkerPoolError`
   * (busy, timeout, failure) or the handler's failure through `toError`.
   */
  run(task: Task, transfer?: readonly ArrayBuffer[]): Promise<Result>
  /** Tasks waiting and running. */
  readonly pendingCount: number
  /** Stops the worker and refuses what is waiting; later calls start a new one. */
  close(): Promise<void>
}

// Under the test runner and tsx the modules are TypeScript sources: the
// worker then loads its entry through tsx's loader (a dev dependency, there
// whenever sources run).
const startWorker = (entry: URL): Worker => {
  const worker = entry.pathname.endsWith('.ts')
    ? new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`,
        { eval: true },
      )
    : new Worker(entry)
  // The worker never keeps the process alive; close() or exit ends it.
  worker.unref()
  return worker
}

/** The entry of `name` beside `base` (a module URL), `.ts` or `.js` as `base` is. @internal */
export const siblingEntry = (base: string, name: string): URL =>
  new URL(`./${name}.${base.endsWith('.ts') ? 'ts' : 'js'}`, base)

interface Queued<Task, Result> {
  readonly id: number
  readonly task: Task
  readonly transfer: readonly ArrayBuffer[]
  readonly resolve: (result: Result) => void
  readonly reject: (err: Error) => void
}

/** Creates a pool; its worker starts with the first task. */
export const createWorkerPool = <Task, Result>(
  options: WorkerPoolOptions,
): WorkerPool<Task, Result> => {
  const { logger, timeoutMs, maxQueued } = options
  const idleMs = options.idleMs ?? 60_000
  const toError = options.toError ?? ((failure: TaskFailure) => new Error(failure.message))
  let worker: Worker | null = null
  let idleTimer: NodeJS.Timeout | null = null
  let running: Queued<Task, Result> | null = null
  const waiting: Queued<Task, Result>[] = []
  let nextId = 1

  const stopWorker = (): void => {
    const stopping = worker
    worker = null
    void stopping?.terminate()
  }

  const settle = (): void => {
    running = null
    const next = waiting.shift()
    if (next !== undefined) {
      start(next)
      return
    }
    if (worker === null) return
    idleTimer = setTimeout(stopWorker, idleMs)
    idleTimer.unref()
  }

  const start = (item: Queued<Task, Result>): void => {
    if (idleTimer !== null) clearTimeout(idleTimer)
    idleTimer = null
    running = item
    worker ??= startWorker(options.entry)
    const current = worker
    const finish = (): void => {
      clearTimeout(timer)
      current.off('message', handleMessage)
      current.off('error', handleError)
      current.off('exit', handleExit)
    }
    const handleMessage = (reply: Reply<Result>): void => {
      if (reply.id !== item.id) return
      finish()
      if (reply.ok) item.resolve(reply.result)
      else if (reply.failure !== null) item.reject(toError(reply.failure))
      else item.reject(new WorkerPoolError('WORKER_FAILED', `worker task failed: ${reply.message}`))
      settle()
    }
    const handleError = (err: Error): void => {
      finish()
      logger.error({ err }, 'worker crashed')
      if (worker === current) worker = null
      item.reject(new WorkerPoolError('WORKER_FAILED', 'worker crashed', { cause: err }))
      settle()
    }
    const handleExit = (): void => {
      finish()
      if (worker === current) worker = null
      item.reject(new WorkerPoolError('WORKER_FAILED', 'worker stopped'))
      settle()
    }
    const timer = setTimeout(() => {
      finish()
      // Stopping the thread is the only way to interrupt a parser or
      // renderer; the next task starts a fresh one.
      if (worker === current) stopWorker()
      item.reject(new WorkerPoolError('WORKER_TIMEOUT', `task took over ${timeoutMs} ms`))
      settle()
    }, timeoutMs)
    current.on('message', handleMessage)
    current.once('error', handleError)
    current.once('exit', handleExit)
    current.postMessage({ id: item.id, task: item.task }, [...item.transfer])
  }

  return {
    run(task, transfer = []) {
      return new Promise<Result>((resolve, reject) => {
        if (running !== null && waiting.length >= maxQueued) {
          reject(new WorkerPoolError('WORKER_BUSY', `${waiting.length} tasks already waiting`))
          return
        }
        const item = { id: nextId++, task, transfer, resolve, reject }
        if (running === null) start(item)
        else waiting.push(item)
      })
    },
    get pendingCount() {
      return waiting.length + (running === null ? 0 : 1)
    },
    async close() {
      if (idleTimer !== null) clearTimeout(idleTimer)
      idleTimer = null
      for (const item of waiting.splice(0)) {
        item.reject(new WorkerPoolError('WORKER_FAILED', 'worker pool closed'))
      }
      const stopping = worker
      worker = null
      await stopping?.terminate()
    },
  }
}

/**
 * Answers the pool's tasks in a worker thread with `handle`; call once from
 * the worker's entry module. A handler that throws is a bug: the pool
 * rejects with `WORKER_FAILED` and the error's message (never content).
 */
export const serveWorkerTasks = <Task, Result>(
  handle: (task: Task) => TaskOutcome<Result> | Promise<TaskOutcome<Result>>,
): void => {
  parentPort?.on('message', async ({ id, task }: { id: number; task: Task }) => {
    let outcome: TaskOutcome<Result>
    try {
      outcome = await handle(task)
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      parentPort?.postMessage({ id, ok: false, failure: null, message } satisfies Reply<Result>)
      return
    }
    if (outcome.ok) {
      const reply: Reply<Result> = { id, ok: true, result: outcome.result }
      parentPort?.postMessage(reply, [...(outcome.transfer ?? [])])
    } else {
      const reply: Reply<Result> = { id, ok: false, failure: outcome.failure, message: '' }
      parentPort?.postMessage(reply)
    }
  })
}
