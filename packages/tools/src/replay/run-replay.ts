/**
 * Replays a plan through running Quire nodes with real WebSocket clients,
 * measures throughput and fan-out latency, waits until the server has
 * acknowledged every edit as saved, and checks that every client and a
 * fresh one hold exactly the expected text.
 */
import * as Y from 'yjs'
import type { ReplayPlan } from '../traces/index.js'
import { LatencyRecorder, type LatencySummary } from './latency-recorder.js'
import { ReplayClient } from './replay-client.js'
import { hasArrived, indexSteps, type StepIndex } from './step-index.js'

/** Settings of one replay run. */
export interface ReplayRunOptions {
  /** Base URLs of the nodes (`ws://host:port`); client `i` uses server `i % servers.length`. */
  readonly servers: readonly string[]
  readonly docId: string
  /** Whole-run deadline, in ms. */
  readonly timeoutMs: number
  /** Progress lines go here (stderr in the CLI). */
  readonly progress?: (line: string) => void
}

/** Figures of one replay. */
export interface ReplayResult {
  readonly doc: string
  readonly converged: boolean
  /** Single-character edits replayed (inserted plus deleted characters). */
  readonly edits: number
  readonly steps: number
  readonly clients: number
  /** Edits per second, from the first edit sent to the last one acknowledged as saved. */
  readonly editsPerSec: number
  readonly durationMs: number
  /** Fan-out latency of struct-carrying steps: send on one client to arrival on each other client. */
  readonly latency: LatencySummary
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Bytes of the updates sent, which is what the update log stores for them. */
  readonly storedBytes: number
  readonly storedBytesPerEdit: number
  /** Reconnections seen across clients (0 in a healthy run). */
  readonly reconnects: number
  /** Why convergence failed, when it did. */
  readonly mismatch?: string
}

const REPLAY_ORIGIN = Symbol('replay')

interface ClientState {
  readonly client: ReplayClient
  readonly queue: number[]
  cursor: number
  readonly pointers: Map<number, number>
}

/** Runs `plan` against the servers. Rejects only on setup failure; divergence is reported in the result. */
export const runReplay = async (
  plan: ReplayPlan,
  options: ReplayRunOptions,
): Promise<ReplayResult> => {
  const deadline = Date.now() + options.timeoutMs
  const remaining = (): number => Math.max(1, deadline - Date.now())
  const progress = options.progress ?? (() => undefined)
  const index = indexSteps(plan)
  const sentAt = new Float64Array(plan.steps.length)
  const latency = new LatencyRecorder()
  const states: ClientState[] = []
  // Each provider registers a process 'exit' listener; hundreds of clients
  // (A1 has 204 agents) are expected here, not a leak.
  process.setMaxListeners(Math.max(process.getMaxListeners(), plan.clients + 16))
  for (let c = 0; c < plan.clients; c++) {
    const server = options.servers[c % options.servers.length] as string
    states.push({
      client: new ReplayClient(server, options.docId),
      queue: [],
      cursor: 0,
      pointers: new Map(),
    })
  }
  plan.steps.forEach((step, i) => states[step.client]?.queue.push(i))

  try {
    await Promise.all(states.map((s) => s.client.whenSynced(remaining())))
    progress(`${plan.clients} clients synced on ${options.docId}`)
    const startedAt = performance.now()
    let finished = 0
    const allSent = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out replaying')), remaining())
      const onClientDone = (): void => {
        finished++
        if (finished === states.length) {
          clearTimeout(timer)
          resolve()
        }
      }
      for (const state of states) {
        const advance = (): boolean => sendReadySteps(state, plan, index, sentAt)
        state.client.doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin === REPLAY_ORIGIN) return
          recordArrivals(state, update, index, sentAt, latency)
          if (state.cursor < state.queue.length && advance()) onClientDone()
        })
        if (advance()) onClientDone()
      }
    })
    await allSent
    progress(`all ${plan.steps.length} steps sent; waiting for saved acknowledgements`)
    await Promise.all(states.map((s) => s.client.whenAllSaved(remaining())))
    const durationMs = performance.now() - startedAt

    const mismatch = await checkConvergence(states, plan, options, remaining)
    const storedBytes = plan.steps.reduce((sum, step) => sum + step.update.length, 0)
    const summary = latency.summarize()
    return {
      doc: options.docId,
      converged: mismatch === null,
      edits: plan.totalEdits,
      steps: plan.steps.length,
      clients: plan.clients,
      editsPerSec: Math.round(plan.totalEdits / (durationMs / 1000)),
      durationMs: Math.round(durationMs),
      latency: summary,
      p50Ms: summary.p50Ms,
      p99Ms: summary.p99Ms,
      maxMs: summary.maxMs,
      storedBytes,
      storedBytesPerEdit: Math.round((storedBytes / Math.max(1, plan.totalEdits)) * 10) / 10,
      reconnects: states.reduce((sum, s) => sum + s.client.tracker.counters.connections - 1, 0),
      ...(mismatch === null ? {} : { mismatch }),
    }
  } finally {
    for (const state of states) state.client.destroy()
  }
}

/** Sends every queued step whose dependencies have arrived; returns true once the queue is done. */
const sendReadySteps = (
  state: ClientState,
  plan: ReplayPlan,
  index: StepIndex,
  sentAt: Float64Array,
): boolean => {
  const doc = state.client.doc
  while (state.cursor < state.queue.length) {
    const stepIndex = state.queue[state.cursor] as number
    const step = plan.steps[stepIndex]
    if (step === undefined) break
    for (const dependency of step.dependsOn) {
      const arrival = index.arrivals[dependency]
      if (arrival !== undefined && !hasArrived(doc, arrival)) return false
    }
    sentAt[stepIndex] = performance.now()
    Y.applyUpdate(doc, step.update, REPLAY_ORIGIN)
    state.cursor++
  }
  return true
}

/** Records the fan-out latency of every struct step that `update` completed on this client. */
const recordArrivals = (
  state: ClientState,
  update: Uint8Array,
  index: StepIndex,
  sentAt: Float64Array,
  latency: LatencyRecorder,
): void => {
  const now = performance.now()
  for (const clientId of Y.parseUpdateMeta(update).to.keys()) {
    const steps = index.stepsByClientId.get(clientId)
    if (steps === undefined) continue
    const clock = Y.getState(state.client.doc.store, clientId)
    let pointer = state.pointers.get(clientId) ?? 0
    while (pointer < steps.length) {
      const stepIndex = steps[pointer] as number
      const arrival = index.arrivals[stepIndex]
      if (arrival?.kind !== 'structs' || arrival.endClock > clock) break
      const sent = sentAt[stepIndex] ?? 0
      if (sent > 0) latency.record(now - sent)
      pointer++
    }
    state.pointers.set(clientId, pointer)
  }
}

/**
 * Waits (until the deadline) for every client to hold the expected text,
 * then checks a fresh client. Returns null when all match, else why not.
 */
const checkConvergence = async (
  states: readonly ClientState[],
  plan: ReplayPlan,
  options: ReplayRunOptions,
  remaining: () => number,
): Promise<string | null> => {
  for (const [i, state] of states.entries()) {
    const text = await waitForText(state.client, plan.expectedText, remaining())
    if (text !== plan.expectedText)
      return `client ${i}: ${describeDifference(text, plan.expectedText)}`
  }
  const fresh = new ReplayClient(options.servers[0] as string, options.docId)
  try {
    await fresh.whenSynced(remaining())
    const text = fresh.text()
    if (text !== plan.expectedText)
      return `fresh client: ${describeDifference(text, plan.expectedText)}`
    const reference = states[0]?.client.doc
    if (
      reference !== undefined &&
      !Y.equalSnapshots(Y.snapshot(reference), Y.snapshot(fresh.doc))
    ) {
      return 'fresh client: same text but a different snapshot than client 0'
    }
  } finally {
    fresh.destroy()
  }
  return null
}

/** Resolves with the client's text once it equals `expected`, or with whatever it is at the deadline. */
const waitForText = (client: ReplayClient, expected: string, timeoutMs: number): Promise<string> =>
  new Promise((resolve) => {
    const check = (): boolean => client.text() === expected
    if (check()) {
      resolve(expected)
      return
    }
    const onUpdate = (): void => {
      if (!check()) return
      clearTimeout(timer)
      client.doc.off('update', onUpdate)
      resolve(expected)
    }
    const timer = setTimeout(() => {
      client.doc.off('update', onUpdate)
      resolve(client.text())
    }, timeoutMs)
    client.doc.on('update', onUpdate)
  })

/** A short description of where two texts first differ. */
export const describeDifference = (actual: string, expected: string): string => {
  let at = 0
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++
  return (
    `length ${actual.length}, expected ${expected.length}; first difference at ${at}: ` +
    `${JSON.stringify(actual.slice(at, at + 20))} vs ${JSON.stringify(expected.slice(at, at + 20))}`
  )
}
