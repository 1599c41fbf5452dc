/**
 * Collects latency samples in a growable typed array and reports
 * percentiles. Samples are in milliseconds.
 */

/** Percentiles of the samples recorded. */
export interface LatencySummary {
  readonly count: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** An append-only set of latency samples. */
export class LatencyRecorder {
  private samples = new Float64Array(1024)
  private length = 0

  record(ms: number): void {
    if (this.length === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2)
      grown.set(this.samples)
      this.samples = grown
    }
    this.samples[this.length++] = ms
  }

  /** Nearest-rank percentiles; zeros when nothing was recorded. */
  summarize(): LatencySummary {
    if (this.length === 0) return { count: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 }
    const sorted = this.samples.slice(0, this.length).sort()
    const at = (q: number): number =>
      round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0)
    return {
      count: this.length,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      p99Ms: at(0.99),
      maxMs: round(sorted[sorted.length - 1] ?? 0),
    }
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000
