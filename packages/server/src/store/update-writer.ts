/**
 * Group commit of the update log. Appends are queued and written many to a
 * transaction: a batch closes when it holds `maxBatchUpdates` records or
 * `maxBatchDelayMs` after its first record, and exactly one batch
 * transaction is in flight at a time, so records that arrive meanwhile form
 * the next batch. Under load, batches grow by themselves while the previous
 * one commits; when idle, an append waits at most `maxBatchDelayMs`.
 */
import type { Logger } from 'pino'
import type { AppendedUpdate, UpdateRecord } from './document-store.js'
import { resolveOptions } from './resolve-options.js'
import type { SqlClient } from './sql-client.js'
import { StoreError } from './store-error.js'
import { insertDeadLetter, isRecordFault } from './dead-letters.js'
import { type CommittedDocument, writeUpdateBatch } from './update-batch.js'

/** Options of `createUpdateWriter`. */
export interface UpdateWriterOptions {
  /** Where updates are written; the writer uses it but does not close it. */
  readonly client: SqlClient
  /** Receives `update batch failed` warnings. */
  readonly logger: Logger
  /** Most records in one batch transaction. @default 512 */
  readonly maxBatchUpdates?: number
  /** Longest a record waits for its batch to close, ms. 0 closes it on the next tick. @default 4 */
  readonly maxBatchDelayMs?: number
  /** Wait before the first retry of a failed batch, ms; doubles per attempt. @default 50 */
  readonly retryInitialDelayMs?: number
  /** Longest wait between retries of a failed batch, ms. @default 5000 */
  readonly retryMaxDelayMs?: number
  /**
   * Called after each commit with the documents that received rows. Runs on
   * the writer's path: it must return quickly (queue work, never await it).
   * An exception it throws is logged and otherwise ignored.
   */
  readonly onBatchCommitted?: (documents: readonly CommittedDocument[]) => void
  /** Receives each committed batch's size and the duration of its successful transaction, s. */
  readonly observeBatch?: (updates: number, seconds: number) => void
  /** Failed attempts of a batch before its records are written one by one. @default 8 */
  readonly isolateAfterAttempts?: number
  /**
   * Failed attempts of one record, each refused for the record's own sake
   * (see `isRecordFault`) while the database answers, before it becomes a
   * dead letter. @default 5
   */
  readonly deadLetterAfterAttempts?: number
  /** Told of each record moved to the dead-letter table (metrics). */
  readonly onDeadLetter?: (record: UpdateRecord, err: unknown) => void
}

/** Defaults of `UpdateWriterOptions`. */
export const DEFAULT_UPDATE_WRITER_OPTIONS = Object.freeze({
  maxBatchUpdates: 512,
  maxBatchDelayMs: 4,
  retryInitialDelayMs: 50,
  retryMaxDelayMs: 5_000,
  isolateAfterAttempts: 8,
  deadLetterAfterAttempts: 5,
})

/** The batching writer of the update log. */
export interface UpdateWriter {
  /**
   * Queues one record; resolves with its sequence number once the batch
   * holding it has committed. Rejects with `StoreError` `STORE_CLOSED` after
   * `close()` was called.
   */
  appendUpdate(record: UpdateRecord): Promise<AppendedUpdate>
  /** Resolves once every record appended before the call has committed. */
  flush(): Promise<void>
  /** Refuses new records, then resolves once every queued record has committed. */
  close(): Promise<void>
  /** Records appended and not yet committed, the batch in flight included. */
  readonly queuedCount: number
}

interface PendingRecord {
  readonly record: UpdateRecord
  readonly resolve: (appended: AppendedUpdate) => void
}

/**
 * Creates a writer over `options.client`. The caller owns the client and
 * closes it after `close()` resolved. A failing batch is retried until it
 * commits (see the limit in `#commitWithRetry`).
 */
export const createUpdateWriter = (options: UpdateWriterOptions): UpdateWriter =>
  new GroupCommitWriter(options)

class GroupCommitWriter implements UpdateWriter {
  readonly #options: UpdateWriterOptions & typeof DEFAULT_UPDATE_WRITER_OPTIONS
  #queue: PendingRecord[] = []
  #inFlight: Promise<void> | null = null
  #inFlightCount = 0
  /** Records ever appended, and ever committed; batches commit in append order. */
  #appendedCount = 0
  #committedCount = 0
  #isDue = false
  #timer: NodeJS.Timeout | null = null
  #isClosed = false

  constructor(options: UpdateWriterOptions) {
    this.#options = resolveOptions(DEFAULT_UPDATE_WRITER_OPTIONS, options)
    if (!(this.#options.maxBatchUpdates >= 1)) {
      throw new RangeError(`maxBatchUpdates must be at least 1, got ${options.maxBatchUpdates}`)
    }
  }

  get queuedCount(): number {
    return this.#queue.length + this.#inFlightCount
  }

  appendUpdate(record: UpdateRecord): Promise<AppendedUpdate> {
    if (this.#isClosed) {
      return Promise.reject(new StoreError('STORE_CLOSED', 'the update writer is closed'))
    }
    return new Promise<AppendedUpdate>((resolve) => {
      this.#queue.push({ record, resolve })
      this.#appendedCount++
      if (this.#queue.length >= this.#options.maxBatchUpdates) {
        this.#isDue = true
      } else if (this.#timer === null) {
        this.#timer = setTimeout(() => {
          this.#timer = null
          this.#isDue = true
          this.#startBatch()
        }, this.#options.maxBatchDelayMs)
      }
      this.#startBatch()
    })
  }

  async flush(): Promise<void> {
    // Waits for the records appended so far only, so a steady stream of new
    // appends cannot keep a flush waiting forever.
    const target = this.#appendedCount
    while (this.#committedCount < target) {
      this.#isDue = true
      this.#startBatch()
      if (this.#inFlight === null) {
        throw new Error(`${target - this.#committedCount} records neither queued nor in flight`)
      }
      await this.#inFlight
    }
  }

  async close(): Promise<void> {
    this.#isClosed = true
    await this.flush()
  }

  /** Starts the next batch when one is due and none is in flight. */
  #startBatch(): void {
    if (this.#inFlight !== null || !this.#isDue || this.#queue.length === 0) return
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    const batch = this.#queue.splice(0, this.#options.maxBatchUpdates)
    this.#isDue = false
    this.#inFlightCount = batch.length
    this.#inFlight = this.#commitWithRetry(batch).then(() => {
      this.#inFlight = null
      this.#inFlightCount = 0
      this.#committedCount += batch.length
      // Whatever queued meanwhile has already waited a whole transaction:
      // commit it now rather than waiting out a fresh delay.
      this.#isDue = this.#queue.length > 0
      this.#startBatch()
    })
  }

  /**
   * Commits `batch` in one transaction, retrying until it succeeds; never
   * rejects. A batch that keeps failing while the database answers is
   * written record by record, so one record the database refuses cannot
   * hold back the others: it becomes a dead letter (see dead-letters.ts).
   * While the database does not answer, nothing is dead-lettered; the batch
   * waits, and the node's --max-unsaved-updates backpressure bounds the queue.
   */
  async #commitWithRetry(batch: readonly PendingRecord[]): Promise<void> {
    const records = batch.map((pending) => pending.record)
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#commit(batch)
        return
      } catch (err) {
        // The outcome may be unknown (the commit can succeed and its reply
        // be lost); the retry is safe because writeUpdateBatch skips records
        // whose (document, bus id) is already stored.
        this.#options.logger.warn(
          { err, batchSize: records.length, attempt },
          'update batch failed',
        )
        if (
          attempt >= this.#options.isolateAfterAttempts &&
          isRecordFault(err) &&
          (await this.#isDatabaseAnswering())
        ) {
          for (const pending of batch) await this.#commitAlone(pending)
          return
        }
        await sleep(this.#retryDelayMs(attempt))
      }
    }
  }

  /** Commits one record, retrying; dead-letters it if the database keeps refusing it alone. */
  async #commitAlone(pending: PendingRecord): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#commit([pending])
        return
      } catch (err) {
        const { docId, busId } = pending.record
        this.#options.logger.warn({ err, docId, busId, attempt }, 'update refused')
        if (
          attempt >= this.#options.deadLetterAfterAttempts &&
          isRecordFault(err) &&
          (await this.#isDatabaseAnswering())
        ) {
          try {
            await insertDeadLetter(this.#options.client, pending.record, attempt, err)
            this.#options.logger.error({ docId, busId, attempts: attempt }, 'update dead-lettered')
            this.#options.onDeadLetter?.(pending.record, err)
            pending.resolve({ docId, seq: 0, deadLettered: true })
            return
          } catch (insertErr) {
            this.#options.logger.warn({ err: insertErr, docId }, 'dead letter not stored')
          }
        }
        await sleep(this.#retryDelayMs(attempt))
      }
    }
  }

  /** One transaction for `batch`; resolves its records' promises on commit. */
  async #commit(batch: readonly PendingRecord[]): Promise<void> {
    const records = batch.map((pending) => pending.record)
    const startedAt = performance.now()
    const result = await this.#options.client.transaction((tx) => writeUpdateBatch(tx, records))
    this.#options.observeBatch?.(records.length, (performance.now() - startedAt) / 1000)
    batch.forEach((pending, index) => {
      // writeUpdateBatch returns one seq per record, index for index.
      const seq = result.seqs[index] as number
      pending.resolve({ docId: pending.record.docId, seq })
    })
    this.#notifyCommitted(result.documents)
  }

  async #isDatabaseAnswering(): Promise<boolean> {
    try {
      await this.#options.client.query('SELECT 1')
      return true
    } catch {
      return false
    }
  }

  #retryDelayMs(attempt: number): number {
    const { retryInitialDelayMs, retryMaxDelayMs } = this.#options
    return Math.min(retryInitialDelayMs * 2 ** Math.min(attempt - 1, 30), retryMaxDelayMs)
  }

  #notifyCommitted(documents: readonly CommittedDocument[]): void {
    if (this.#options.onBatchCommitted === undefined || documents.length === 0) return
    try {
      this.#options.onBatchCommitted(documents)
    } catch (err) {
      this.#options.logger.warn({ err }, 'batch commit callback failed')
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
