/**
 * Latency samples and the summaries the report prints: nearest-rank
 * percentiles of one run, medians across runs.
 */

/** Percentiles of one run's samples, in milliseconds. */
export interface LatencySummary {
  readonly count: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** Append-only latency samples in a growable typed array (ms). */
export class LatencyRecorder {
  #samples = new Float64Array(4096)
  #length = 0

  get count(): number {
    return this.#length
  }

  record(ms: number): void {
    if (this.#length === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2)
      grown.set(this.#samples)
      this.#samples = grown
    }
    this.#samples[this.#length++] = ms
  }

  /** Nearest-rank percentiles; zeros when nothing was recorded. */
  summarize(): LatencySummary {
    if (this.#length === 0) return { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 }
    const sorted = this.#samples.slice(0, this.#length).sort()
    const at = (q: number): number =>
      round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0)
    return {
      count: this.#length,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      p99Ms: at(0.99),
      maxMs: round(sorted[sorted.length - 1] ?? 0),
    }
  }
}

/** Rounds to 3 decimals. */
export const round = (value: number): number => Math.round(value * 1000) / 1000

/** The median (upper median for an even count); NaN for none. */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Field-wise medians of numeric fields across runs (non-numbers from the first run). */
export const medianOf = <T extends object>(runs: readonly T[]): T => {
  const first = runs[0]
  if (first === undefined) throw new Error('medianOf: no runs')
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(first)) {
    if (typeof value === 'number') {
      result[key] = median(runs.map((run) => (run as Record<string, number>)[key] as number))
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      result[key] = medianOf(runs.map((run) => (run as Record<string, object>)[key] as object))
    } else if (typeof value === 'boolean') {
      result[key] = runs.every((run) => (run as Record<string, boolean>)[key] === true)
    } else {
      result[key] = value
    }
  }
  return result as T
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` every `everyMs` until true; resolves false after `timeoutMs`. */
export const waitUntil = async (
  condition: () => boolean,
  timeoutMs: number,
  everyMs = 20,
): Promise<boolean> => {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) return false
    await sleep(everyMs)
  }
  return true
}

/** Runs `work` over `items` with at most `concurrency` at a time, in order of start. */
export const inBatches = async <T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> => {
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      await work(items[index] as T, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane))
}
