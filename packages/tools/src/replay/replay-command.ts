/**
 * `quire replay <trace> --server <ws url> --clients K [--json]`: replays a
 * recorded editing trace through running nodes and reports whether every
 * client converged on the trace's final text, with throughput and fan-out
 * latency. With `--verify` it makes no edits and only checks that a fresh
 * client of `--doc` holds the final text.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createReplayPlan, loadTrace } from '../traces/index.js'
import { ReplayClient } from './replay-client.js'
import { describeDifference, runReplay, type ReplayResult } from './run-replay.js'

/** Help text of `quire replay`. */
export const REPLAY_HELP = `Usage: quire replay <trace> --server <ws url> [options]

Replays a recorded editing trace (a name such as automerge-paper, seph-blog1,
sveltecomponent, friendsforever, A1, A2, or a path) through running Quire nodes.

Options:
  --server <url>      node to connect to, e.g. ws://127.0.0.1:8080; repeat to
                      spread the clients over several nodes (required)
  --clients <k>       network clients (default 1 for sequential traces, one per
                      agent for concurrent ones)
  --doc <id>          document id (default: a new document)
  --verify            make no edits; check that a fresh client of --doc holds
                      the trace's final text
  --limit-txns <n>    replay only the first n transactions
  --chunk <n>         sequential traces: transactions a client types before the
                      next client takes over (default 1)
  --timeout <s>       give up after this many seconds (default 600)
  --json              print one JSON object as the last line
  --force             replay into --doc even if it already has content
  --help              show this help

Exit status: 0 when converged, 1 when not, 2 for bad arguments.`

/** Runs the command; returns the exit code. */
export const runReplayCommand = async (argv: readonly string[]): Promise<number> => {
  let values: ReturnType<typeof parseReplayArgs>['values']
  let positionals: string[]
  try {
    ;({ values, positionals } = parseReplayArgs(argv))
  } catch (err) {
    process.stderr.write(`quire replay: ${(err as Error).message}\n\n${REPLAY_HELP}\n`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(`${REPLAY_HELP}\n`)
    return 0
  }
  const [traceName] = positionals
  const servers = values.server ?? []
  const problems: string[] = []
  if (traceName === undefined || positionals.length !== 1) problems.push('give exactly one trace')
  if (servers.length === 0) problems.push('--server is required')
  for (const server of servers)
    if (!/^wss?:\/\//.test(server))
      problems.push(`--server ${server}: must start with ws:// or wss://`)
  const clients = optionalInteger(values.clients, '--clients', problems)
  const limitTxns = optionalInteger(values['limit-txns'], '--limit-txns', problems)
  const chunkTxns = optionalInteger(values.chunk, '--chunk', problems)
  const timeoutS = optionalInteger(values.timeout, '--timeout', problems) ?? 600
  if (values.verify === true && values.doc === undefined) problems.push('--verify needs --doc')
  if (problems.length > 0 || traceName === undefined) {
    process.stderr.write(`quire replay: ${problems.join('; ')}\n`)
    return 2
  }

  let trace: Awaited<ReturnType<typeof loadTrace>>
  try {
    trace = await loadTrace(traceName)
  } catch (err) {
    process.stderr.write(`quire replay: ${(err as Error).message}\n`)
    return 2
  }
  const plan = createReplayPlan(trace, {
    ...(clients === undefined ? {} : { clients }),
    ...(limitTxns === undefined ? {} : { limitTxns }),
    ...(chunkTxns === undefined ? {} : { chunkTxns }),
  })
  const docId =
    values.doc ??
    `replay-${trace.name.replace(/[^A-Za-z0-9_-]/g, '-')}-${randomBytes(4).toString('hex')}`
  const progress = (line: string): void => {
    process.stderr.write(`${line}\n`)
  }

  if (values.verify === true) {
    const mismatch = await verifyDocument(
      servers[0] as string,
      docId,
      plan.expectedText,
      timeoutS * 1000,
    )
    const result = {
      doc: docId,
      converged: mismatch === null,
      ...(mismatch === null ? {} : { mismatch }),
    }
    process.stdout.write(
      mismatch === null
        ? `${docId}: holds the final text of ${trace.name}\n`
        : `${docId}: ${mismatch}\n`,
    )
    if (values.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
    return mismatch === null ? 0 : 1
  }

  if (values.force !== true) {
    const probe = new ReplayClient(servers[0] as string, docId)
    try {
      await probe.whenSynced(timeoutS * 1000)
      if (probe.text() !== '') {
        process.stderr.write(
          `quire replay: document ${docId} is not empty; choose a new --doc, or --verify it, or pass --force\n`,
        )
        return 2
      }
    } finally {
      probe.destroy()
    }
  }

  const result = await runReplay(plan, { servers, docId, timeoutMs: timeoutS * 1000, progress })
  process.stdout.write(formatResult(trace.name, result))
  if (values.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
  return result.converged ? 0 : 1
}

const parseReplayArgs = (argv: readonly string[]) =>
  parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      server: { type: 'string', multiple: true },
      clients: { type: 'string' },
      doc: { type: 'string' },
      verify: { type: 'boolean' },
      'limit-txns': { type: 'string' },
      chunk: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  })

const optionalInteger = (
  value: string | undefined,
  flag: string,
  problems: string[],
): number | undefined => {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    problems.push(`${flag} must be a positive integer, got '${value}'`)
    return undefined
  }
  return parsed
}

/** Connects a fresh client and compares its text; returns null when it matches. */
export const verifyDocument = async (
  server: string,
  docId: string,
  expectedText: string,
  timeoutMs: number,
): Promise<string | null> => {
  const client = new ReplayClient(server, docId)
  try {
    await client.whenSynced(timeoutMs)
    const text = client.text()
    return text === expectedText ? null : describeDifference(text, expectedText)
  } finally {
    client.destroy()
  }
}

const formatResult = (traceName: string, r: ReplayResult): string =>
  [
    `trace        ${traceName} (${r.steps} transactions, ${r.edits} edits, ${r.clients} clients)`,
    `document     ${r.doc}`,
    `converged    ${r.converged ? 'yes: every client and a fresh one hold the final text' : `NO: ${r.mismatch ?? ''}`}`,
    `throughput   ${r.editsPerSec} edits/s (${r.durationMs} ms until all saved)`,
    r.latency.count === 0
      ? 'fan-out      n/a (one client: no other client receives the edits)'
      : `fan-out      p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms (${r.latency.count} deliveries)`,
    `stored       ${r.storedBytes} bytes of updates, ${r.storedBytesPerEdit} bytes per edit`,
    `reconnects   ${r.reconnects}`,
    '',
  ].join('\n')
