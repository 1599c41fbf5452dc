/**
 * The background job that enforces history retention on a node: every
 * interval (jittered, so a fleet started together does not query at once)
 * it runs one pass of `pruneHistory` over each database, one after the
 * other. Every node may run it; the advisory lock in `pruneHistory` lets
 * one work on a database at a time, the others find it busy and wait for
 * their next turn. A failing pass only logs; the next one retries.
 */
import type { Logger } from 'pino'
import {
  type DocumentPruneResult,
  pruneHistory,
  type PrunePassSummary,
  type RetentionPolicy,
} from './history-retention.js'
import type { SqlClient } from './sql-client.js'

/** Options of `startHistoryPruner`. */
export interface HistoryPrunerOptions {
  /** The databases documents live on (one per shard); the pruner does not close them. */
  readonly databases: readonly SqlClient[]
  readonly policy: RetentionPolicy
  /** Mean time between passes, ms; each wait is drawn from 0.5× to 1.5× of it. @default 3600000 */
  readonly intervalMs?: number
  /** Receives `history pruned` (info) and `history pruning failed` (warn) lines. */
  readonly logger: Logger
  /** Told of each document pruned (metrics). */
  readonly onPruned?: (result: DocumentPruneResult) => void
  /** The clock the retention window is measured on. @default () => new Date() */
  readonly now?: () => Date
}

/** A running pruner. */
export interface HistoryPruner {
  /** Runs a pass now (after one already running) and resolves with its totals per database. */
  runNow(): Promise<readonly PrunePassSummary[]>
  /** Stops the timer, ends a running pass at its next document and resolves once it has. */
  close(): Promise<void>
}

/** Default of `HistoryPrunerOptions.intervalMs`. */
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000

/**
 * Starts the pruner; its timer never keeps the process alive. The caller
 * must `close()` it before closing the databases. With a policy that keeps
 * everything (0 days), passes do nothing.
 */
export const startHistoryPruner = (options: HistoryPrunerOptions): HistoryPruner => {
  const intervalMs = options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS
  const now = options.now ?? (() => new Date())
  let isClosed = false
  let running: Promise<readonly PrunePassSummary[]> = Promise.resolve([])
  let timer: NodeJS.Timeout | null = null

  const runPass = async (): Promise<readonly PrunePassSummary[]> => {
    const summaries: PrunePassSummary[] = []
    for (const database of options.databases) {
      const startedAt = performance.now()
      const summary = await pruneHistory(database, options.policy, {
        now: now(),
        isStopped: () => isClosed,
        ...(options.onPruned === undefined ? {} : { onPruned: options.onPruned }),
      })
      summaries.push(summary)
      if (summary.documents > 0) {
        const durationMs = Math.round(performance.now() - startedAt)
        options.logger.info({ ...summary, durationMs }, 'history pruned')
      }
    }
    return summaries
  }

  const runNow = (): Promise<readonly PrunePassSummary[]> => {
    running = running.catch(() => []).then(runPass)
    return running
  }

  const schedule = (): void => {
    if (isClosed) return
    const delayMs = Math.round(intervalMs * (0.5 + Math.random()))
    timer = setTimeout(() => {
      runNow()
        .catch((err: unknown) => options.logger.warn({ err }, 'history pruning failed'))
        .finally(schedule)
    }, delayMs)
    timer.unref()
  }
  schedule()

  return {
    runNow,
    async close() {
      isClosed = true
      if (timer !== null) clearTimeout(timer)
      await running.catch(() => undefined)
    },
  }
}
