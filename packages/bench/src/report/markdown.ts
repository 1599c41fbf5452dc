/**
 * The Markdown report of one benchmark invocation: the machine and versions,
 * one table per workload (medians across runs), and Quire's targets with
 * how far each is met or missed.
 */
import type { ServerKind } from '../client/adapters.js'
import { type BenchResults, durabilityKey } from '../results.js'
import { median } from '../stats.js'

const ms = (value: number | undefined): string =>
  value === undefined || Number.isNaN(value) ? '–' : `${Math.round(value * 10) / 10} ms`
const kb = (bytes: number | undefined): string =>
  bytes === undefined ? '–' : `${Math.round(bytes / 102.4) / 10} KB`

interface Target {
  readonly what: string
  readonly limit: number
  readonly unit: string
  /** 'max': the measure must be at most the limit; 'min': at least. */
  readonly sense: 'max' | 'min'
  readonly measured: Partial<Record<ServerKind, number>>
}

const QUIRE_KINDS: readonly ServerKind[] = ['quire-embedded', 'quire-postgres']

const fanOutFigure = (
  results: BenchResults,
  load: string,
  pick: (m: { p95: number; p99: number; cpu: number }) => number,
): Partial<Record<ServerKind, number>> => {
  const figures: Partial<Record<ServerKind, number>> = {}
  for (const kind of results.servers) {
    const median = results.fanOut.results[load]?.[kind]?.median
    if (median === undefined) continue
    figures[kind] = pick({
      p95: median.latency.p95Ms,
      p99: median.latency.p99Ms,
      cpu: median.serverCpuPerDeliveryUs,
    })
  }
  return figures
}

const collectTargets = (results: BenchResults): Target[] => {
  const fromDocs = (pick: (kind: ServerKind) => number | undefined) =>
    Object.fromEntries(
      results.servers.map((kind) => [kind, pick(kind)]).filter(([, v]) => v !== undefined),
    ) as Partial<Record<ServerKind, number>>
  const doc = results.document?.results
  const memory = results.memory?.results
  const durable =
    results.durability?.results[durabilityKey({ clients: 10, editsPerSecond: 2000, durationMs: 0 })]
  return [
    {
      what: 'fan-out 500 clients / 10 writers, p95',
      limit: 40,
      unit: 'ms',
      sense: 'max',
      measured: fanOutFigure(results, '500c-10w-2hz', (m) => m.p95),
    },
    {
      what: 'fan-out 500 clients / 10 writers, p99',
      limit: 80,
      unit: 'ms',
      sense: 'max',
      measured: fanOutFigure(results, '500c-10w-2hz', (m) => m.p99),
    },
    {
      what: 'fan-out 50 clients all writing, p95',
      limit: 25,
      unit: 'ms',
      sense: 'max',
      measured: fanOutFigure(results, '50c-50w-1hz', (m) => m.p95),
    },
    {
      what: 'server CPU per delivered message (200 clients / 20 writers)',
      limit: 15,
      unit: 'µs',
      sense: 'max',
      measured: fanOutFigure(results, '200c-20w-5hz', (m) => m.cpu),
    },
    {
      what: 'server CPU per delivered message (500 clients / 10 writers)',
      limit: 15,
      unit: 'µs',
      sense: 'max',
      measured: fanOutFigure(results, '500c-10w-2hz', (m) => m.cpu),
    },
    {
      what: 'heap per idle small document with its connection',
      limit: 10,
      unit: 'KB',
      sense: 'max',
      measured: fromDocs((k) => scale(memory?.[k]?.median.heapPerDocumentBytes)),
    },
    {
      what: 'RSS per idle small document with its connection',
      limit: 30,
      unit: 'KB',
      sense: 'max',
      measured: fromDocs((k) => scale(memory?.[k]?.median.rssPerDocumentBytes)),
    },
    {
      what: 'cold open of the trace document, raw history',
      limit: 150,
      unit: 'ms',
      sense: 'max',
      measured: fromDocs((k) => med(doc?.[k]?.coldRawMs)),
    },
    {
      what: 'cold open of the trace document, compacted',
      limit: 150,
      unit: 'ms',
      sense: 'max',
      measured: fromDocs((k) => med(doc?.[k]?.coldCompactedMs)),
    },
    {
      what: '100 joiners all synced',
      limit: 400,
      unit: 'ms',
      sense: 'max',
      measured: fromDocs((k) => med(doc?.[k]?.stormMs['100'])),
    },
    {
      what: 'edits appended per second at 2,000 offered',
      limit: 2000,
      unit: '/s',
      sense: 'min',
      measured: fromDocs((k) => durable?.[k]?.median.storedPerSecond),
    },
    {
      what: 'append (saved acknowledgement) p95 at 2,000 edits/s',
      limit: 20,
      unit: 'ms',
      sense: 'max',
      measured: fromDocs((k) => durable?.[k]?.median.ackLatency.p95Ms),
    },
  ]
}

const scale = (bytes: number | undefined): number | undefined =>
  bytes === undefined ? undefined : Math.round(bytes / 102.4) / 10
const med = (values: readonly number[] | undefined): number | undefined =>
  values === undefined || values.length === 0 ? undefined : median(values)

const verdict = (target: Target, value: number): string => {
  const isMet = target.sense === 'max' ? value <= target.limit : value >= target.limit
  if (isMet) return 'met'
  const ratio = target.sense === 'max' ? value / target.limit : target.limit / value
  return `**missed** by ${Math.round(Math.abs(value - target.limit) * 10) / 10} ${target.unit} (×${Math.round(ratio * 100) / 100})`
}

/** Renders the report. */
export const renderMarkdown = (
  results: BenchResults,
  chartFile: string,
  analysisFile: string,
): string => {
  const { machine, versions } = results
  const lines: string[] = [
    `# Comparative benchmark${results.isQuick ? ' (quick)' : ''}`,
    '',
    `Measured ${results.measuredAt} on ${machine.cores} × ${machine.cpuModel}, ${machine.ramGiB} GiB RAM, ${machine.kernel}, Node.js ${machine.node}.`,
    `Servers: Quire ${versions.quire} (embedded PGlite store; PostgreSQL + Redis), @hocuspocus/server ${versions.hocuspocusServer}, @y/websocket-server ${versions.yWebsocketServer}; yjs ${versions.yjs}, ws ${versions.ws}.`,
    results.isPinned
      ? 'Each server runs alone, pinned to CPU 0 (`taskset -c 0`); the load generator (one process, raw protocol clients) is pinned to CPU 1.'
      : '**Not pinned** (no taskset): figures swing widely.',
    `Every figure is the median of ${results.runsPerMeasurement} run(s), each on a freshly started server. Quire runs ${results.quireEntry === 'build' ? 'its compiled build (`packages/cli/dist`)' : 'from source (tsx)'} with \`${results.quireFlags.join(' ')}\`: anonymous clients and rate limits off for load generation. Hocuspocus and y-websocket run with their defaults and no persistence: they store nothing, Quire stores every edit before acknowledging it.`,
    `Reproduce: \`npm run bench${results.isQuick ? ' -- --quick' : ''}\`. Analysis of the figures: [${analysisFile}](${analysisFile}).`,
    '',
    '## Fan-out (one document)',
    '',
    'Latency: send on one client to arrival at every other client. CPU: server process user+system time (/proc/<pid>/stat) over the run, per delivery.',
    '',
    '| load | server | p50 | p95 | p99 | max | deliveries/s | server CPU/delivery | lost |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const params of results.fanOut.params) {
    const label = `${params.clients} clients, ${params.writers} writing ${params.editsPerSecond}/s`
    for (const kind of results.servers) {
      const m = results.fanOut.results[params.name]?.[kind]?.median
      if (m === undefined) continue
      lines.push(
        `| ${label} | ${kind} | ${ms(m.latency.p50Ms)} | ${ms(m.latency.p95Ms)} | ${ms(m.latency.p99Ms)} | ${ms(m.latency.maxMs)} | ${Math.round(m.deliveriesPerSecond)} | ${m.serverCpuPerDeliveryUs} µs | ${m.lost} |`,
      )
    }
  }
  lines.push('', `![fan-out latency against load](${chartFile})`, '')

  if (results.memory !== undefined) {
    const p = results.memory.params
    lines.push(
      `## Memory: ${p.documents} documents, one connection each, ${p.textBytes} characters of text`,
      '',
      'Heap and RSS read in the server after two forced GCs (`--expose-gc`, probe.ts), minus the same before any connection.',
      '',
      '| server | heap/document | RSS/document | heap after all closed (vs baseline) | Quire /metrics heap/doc, RSS/doc (no forced GC) |',
      '|---|---:|---:|---:|---:|',
    )
    for (const kind of results.servers) {
      const m = results.memory.results[kind]?.median
      if (m === undefined) continue
      const quire = kind.startsWith('quire')
        ? `${kb(m.quireMetricsHeapPerDocumentBytes)}, ${kb(m.quireMetricsRssPerDocumentBytes)}`
        : '–'
      lines.push(
        `| ${kind} | ${kb(m.heapPerDocumentBytes)} | ${kb(m.rssPerDocumentBytes)} | ${m.heapAfterCloseDeltaBytes >= 0 ? '+' : ''}${kb(m.heapAfterCloseDeltaBytes)} (${m.isHeapBackToBaseline ? 'back' : '**not back**'}) | ${quire} |`,
      )
    }
    lines.push('')
  }

  if (results.document !== undefined) {
    const p = results.document.params
    const sizes = p.stormSizes
    lines.push(
      `## Large document: automerge-paper${p.traceTxns === undefined ? '' : ` (first ${p.traceTxns} transactions)`}`,
      '',
      'Cold open: a freshly started server, one fresh client, connect to synced (sync step 2 received). Quire stores the trace as its raw history (one update row per edit, compaction held off), then compacted. The peers keep documents in memory only: no cold open. Warm open and join storms: the document held open by one client.',
      '',
      `| server | stored updates | state bytes | cold open, raw | cold open, compacted | warm open | ${sizes.map((s) => `${s} joiners`).join(' | ')} | text correct |`,
      `|---|---:|---:|---:|---:|---:|${sizes.map(() => '---:').join('|')}|---|`,
    )
    for (const kind of results.servers) {
      const r = results.document.results[kind]
      if (r === undefined) continue
      const isQuire = kind.startsWith('quire')
      lines.push(
        `| ${kind} | ${isQuire ? r.updates : '1 (state)'} | ${r.stateBytes} | ${ms(med(r.coldRawMs))} | ${ms(med(r.coldCompactedMs))} | ${ms(med(r.warmOpenMs))} | ${sizes.map((s) => ms(med(r.stormMs[String(s)]))).join(' | ')} | ${r.isTextCorrect ? 'yes' : '**no**'} |`,
      )
    }
    lines.push('')
  }

  if (results.durability !== undefined) {
    lines.push(
      '## Durability cost (Quire only)',
      '',
      'Clients on separate documents with saved acknowledgements (`?saved=1`, type 100); latency is send to acknowledgement (durably stored).',
      '',
      '| offered | server | stored/s | ack p50 | p95 | p99 | max | server CPU/edit | lost |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    )
    for (const params of results.durability.params) {
      for (const kind of QUIRE_KINDS) {
        const m = results.durability.results[durabilityKey(params)]?.[kind]?.median
        if (m === undefined) continue
        lines.push(
          `| ${params.editsPerSecond}/s by ${params.clients} clients | ${kind} | ${Math.round(m.storedPerSecond)} | ${ms(m.ackLatency.p50Ms)} | ${ms(m.ackLatency.p95Ms)} | ${ms(m.ackLatency.p99Ms)} | ${ms(m.ackLatency.maxMs)} | ${m.serverCpuPerEditUs} µs | ${m.lost} |`,
        )
      }
    }
    lines.push('')
  }

  lines.push(
    '## Quire targets',
    '',
    '| target | limit | quire-embedded | quire-postgres | peers (for reference) |',
    '|---|---:|---|---|---|',
  )
  for (const target of collectTargets(results)) {
    const cell = (kind: ServerKind): string => {
      const value = target.measured[kind]
      return value === undefined ? '–' : `${value} ${target.unit}: ${verdict(target, value)}`
    }
    const peers = (['hocuspocus', 'y-websocket'] as const)
      .map((kind) =>
        target.measured[kind] === undefined
          ? null
          : `${kind} ${target.measured[kind]} ${target.unit}`,
      )
      .filter((text) => text !== null)
      .join(', ')
    lines.push(
      `| ${target.what} | ${target.sense === 'max' ? '≤' : '≥'} ${target.limit} ${target.unit} | ${cell('quire-embedded')} | ${cell('quire-postgres')} | ${peers || '–'} |`,
    )
  }
  lines.push('')
  if (results.failures.length > 0) {
    lines.push(
      '## Failures',
      '',
      ...results.failures.map((f) => `- ${f.what}: \`${f.error.split('\n')[0]}\``),
      '',
    )
  }
  return lines.join('\n')
}
