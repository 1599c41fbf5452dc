/**
 * The Prometheus metrics of one node, on its own registry (several nodes
 * can live in one process in tests; the global registry would mix them).
 * Parts of the node record into the instruments they are handed; values
 * that already exist elsewhere (open sockets, queue depths) are read when
 * Prometheus scrapes, through `setSources`, never copied on every change.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Readings taken at scrape time; each is optional (a persister has no sockets). */
export interface MetricSources {
  readonly openSockets?: () => number
  readonly openDocuments?: () => number
  /** Edits accepted on this node and not yet committed to the database. */
  readonly persistQueueDepth?: () => number
  /** Updates in Redis not yet stored by any persister. */
  readonly streamBacklog?: () => Promise<number>
  /** Sockets this node has stopped reading (rate limits, database backpressure). */
  readonly pausedSockets?: () => number
}

/** Latency buckets in seconds: sub-millisecond to several seconds. */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

export class NodeMetrics {
  readonly registry = new Registry()
  /** From a client's update arriving to its delivery to the other sockets of the document here. */
  readonly fanOutSeconds: Histogram
  /** From an update's entry in its Redis stream (the entry id's time) to its arrival on another node. */
  readonly crossNodeSeconds: Histogram
  readonly databaseWriteSeconds: Histogram
  readonly databaseBatchSize: Histogram
  /** Sockets closed, by reason (close code name): refusals, limits, restarts. */
  readonly socketCloses: Counter<'reason'>
  /** Times a socket was paused by a rate limit, by which limit. */
  readonly rateLimited: Counter<'limit'>
  /** Updates moved to the dead-letter table after failing to persist. */
  readonly deadLetters: Counter
  /** Rows history retention deleted, by kind (`updates`, `checkpoints`). */
  readonly historyPruned: Counter<'kind'>
  private sources: MetricSources = {}

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    // Gauges read through `metrics`: collect() runs with the gauge as `this`.
    const metrics = this
    if (options.defaultMetrics !== false) {
      // Process metrics, heap, GC and event-loop lag (nodejs_eventloop_lag_*).
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
    }
    const read = (pick: (sources: MetricSources) => (() => number) | undefined) =>
      function (this: Gauge) {
        const source = pick(metrics.sources)
        if (source !== undefined) this.set(source())
      }
    new Gauge({
      name: 'quire_open_sockets',
      help: 'Open WebSocket connections on this node.',
      registers,
      collect: read((s) => s.openSockets),
    })
    new Gauge({
      name: 'quire_open_documents',
      help: 'Documents loaded in memory on this node.',
      registers,
      collect: read((s) => s.openDocuments),
    })
    new Gauge({
      name: 'quire_persist_queue_depth',
      help: 'Edits accepted on this node and not yet committed to the database (what --max-unsaved-updates bounds).',
      registers,
      collect: read((s) => s.persistQueueDepth),
    })
    new Gauge({
      name: 'quire_paused_sockets',
      help: 'Sockets this node has stopped reading (rate limits or database backpressure).',
      registers,
      collect: read((s) => s.pausedSockets),
    })
    new Gauge({
      name: 'quire_stream_backlog',
      help: 'Updates in Redis that no persister has stored yet.',
      registers,
      async collect() {
        const source = metrics.sources.streamBacklog
        if (source === undefined) return
        try {
          this.set(await source())
        } catch {
          // Unreadable while Redis is down: the gauge keeps its last value,
          // and /readyz reports the outage.
        }
      },
    })
    this.fanOutSeconds = new Histogram({
      name: 'quire_fanout_seconds',
      help: 'From a client update arriving to its delivery to the other local sockets.',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.crossNodeSeconds = new Histogram({
      name: 'quire_cross_node_seconds',
      help: 'From an update entering its Redis stream to its arrival on another node.',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.databaseWriteSeconds = new Histogram({
      name: 'quire_database_write_seconds',
      help: 'Duration of one committed batch transaction of the update log.',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.databaseBatchSize = new Histogram({
      name: 'quire_database_batch_updates',
      help: 'Updates per committed batch transaction.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 512, 1000, 2000],
      registers,
    })
    this.socketCloses = new Counter({
      name: 'quire_socket_closes_total',
      help: 'Sockets closed, by reason.',
      labelNames: ['reason'],
      registers,
    })
    this.rateLimited = new Counter({
      name: 'quire_rate_limited_total',
      help: 'Times reading a socket was paused by a rate limit, by limit.',
      labelNames: ['limit'],
      registers,
    })
    this.deadLetters = new Counter({
      name: 'quire_dead_letters_total',
      help: 'Updates moved to the dead-letter table after failing to persist.',
      registers,
    })
    this.historyPruned = new Counter({
      name: 'quire_history_pruned_total',
      help: 'Rows history retention deleted: old updates below a kept checkpoint, and thinned checkpoints.',
      labelNames: ['kind'],
      registers,
    })
    // Both series exist from the start, so a rate() over them is 0, not absent.
    for (const kind of ['updates', 'checkpoints']) this.historyPruned.inc({ kind }, 0)
  }

  /** Sets where scrape-time readings come from; later calls add to earlier ones. */
  setSources(sources: MetricSources): void {
    this.sources = { ...this.sources, ...sources }
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
  }
}
