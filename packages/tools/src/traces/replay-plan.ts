/**
 * Replay plans: a trace turned into Yjs updates for K network clients that
 * each own a Y.Doc with the root Y.Text `text`. See `replay-step.ts` for the
 * shared shape and `concurrent-plan.ts` for concurrent traces.
 *
 * Sequential traces are split across the clients in round-robin runs of
 * `chunkTxns` transactions. A transaction's positions refer to the document
 * after every earlier one, so the plan is a single chain: step `i` depends
 * on step `i - 1`, and the owner of a run waits for the previous run (sent by
 * another client) to arrive before sending. The updates are made offline on
 * one Y.Doc whose clientID is set to `owner + 1` before each transaction, so
 * every client's edits carry its own Yjs clientID exactly as if it typed them.
 */
import * as Y from 'yjs'
import { precomputeConcurrentUpdates, type ConcurrentPlanOptions } from './concurrent-plan.js'
import type { SequentialTrace, Trace } from './parse-trace.js'
import { applyPatchesToString, applyPatchesToYText, countEdits } from './patches.js'
import {
  resolveTxnCount,
  transactCapturingUpdate,
  type ReplayPlan,
  type ReplayStep,
} from './replay-step.js'

/**
 * Transactions a client sends in a row before the next client takes over.
 * One makes the clients alternate on every keystroke, the most interleaved
 * (and most latency-bound) replay: each step waits for the previous client's
 * step to reach it through the server. Larger runs model typing bursts and
 * let a client pipeline its run without round trips.
 */
export const DEFAULT_CHUNK_TXNS = 1

/** Options of `precomputeSequentialUpdates`. */
export interface SequentialPlanOptions {
  /**
   * Length of each client's run of consecutive transactions.
   * @default DEFAULT_CHUNK_TXNS
   */
  readonly chunkTxns?: number
  /**
   * Replay only the first `limitTxns` transactions; `expectedText` is then
   * computed by applying their patches to a plain string.
   * @default all transactions
   */
  readonly limitTxns?: number
}

/** Options of `createReplayPlan`, for either kind of trace. */
export interface ReplayPlanOptions extends SequentialPlanOptions, ConcurrentPlanOptions {
  /**
   * Network clients. @default 1 for sequential traces, `numAgents` for
   * concurrent ones
   */
  readonly clients?: number
}

const checkPositiveInteger = (label: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${label} must be a positive integer, got ${value}`)
  }
}

/** The text after the first `count` txns, replayed on a plain string. */
const replayPrefixText = (trace: SequentialTrace, count: number): string => {
  let text = ''
  for (const txn of trace.txns.slice(0, count)) text = applyPatchesToString(text, txn.patches)
  return text
}

/**
 * Makes the update of every transaction (of the first `limitTxns`) of a
 * sequential trace, owned round-robin by `clients` network clients in runs of
 * `chunkTxns`: txn `i` belongs to client `floor(i / chunkTxns) % clients`.
 * Step `i` depends on step `i - 1` only.
 *
 * Throws when `clients` or `chunkTxns` is not a positive integer, when a
 * patch does not fit the document, or when the Yjs text differs from the
 * expected one (`endContent`, or the plain-string replay of a prefix).
 */
export const precomputeSequentialUpdates = (
  trace: SequentialTrace,
  clients = 1,
  options: SequentialPlanOptions = {},
): ReplayPlan => {
  const chunkTxns = options.chunkTxns ?? DEFAULT_CHUNK_TXNS
  checkPositiveInteger('clients', clients)
  checkPositiveInteger('chunkTxns', chunkTxns)
  const count = resolveTxnCount(trace.txns.length, options.limitTxns)
  const doc = new Y.Doc()
  const text = doc.getText('text')
  // State vector before the current txn, kept sorted by clientID; replaced,
  // never mutated, because the steps keep it.
  let state: number[] = []
  const steps: ReplayStep[] = []
  let totalEdits = 0

  try {
    for (const [index, txn] of trace.txns.slice(0, count).entries()) {
      const owner = Math.floor(index / chunkTxns) % clients
      doc.clientID = owner + 1
      const update = transactCapturingUpdate(doc, () => {
        try {
          applyPatchesToYText(text, txn.patches)
        } catch (err) {
          throw new Error(`${trace.name}: txn ${index} does not apply`, { cause: err })
        }
      })

      const edits = countEdits(txn.patches)
      totalEdits += edits
      const dependsOn = index === 0 ? [] : [index - 1]
      steps.push({ client: owner, agent: owner, update, dependsOn, requiredState: state, edits })
      const clock = Y.getState(doc.store, owner + 1)
      // Delete-only txns leave the state as it was: share the array.
      if (clock !== stateClock(state, owner + 1)) state = withClock(state, owner + 1, clock)
    }

    const expectedText =
      count === trace.txns.length ? trace.expectedText : replayPrefixText(trace, count)
    const replayedText = text.toString()
    if (replayedText !== expectedText) {
      throw new Error(
        `${trace.name}: Yjs replay gives ${replayedText.length} chars, not the expected ${expectedText.length}`,
      )
    }
    return { kind: 'sequential', name: trace.name, clients, expectedText, steps, totalEdits }
  } finally {
    doc.destroy()
  }
}

/** The clock of `clientId` in sorted state pairs, 0 when absent. */
const stateClock = (state: readonly number[], clientId: number): number => {
  for (let index = 0; index + 1 < state.length; index += 2) {
    if (state[index] === clientId) return state[index + 1] ?? 0
  }
  return 0
}

/** A copy of sorted state pairs with `clientId` at `clock` (dropped when 0). */
const withClock = (state: readonly number[], clientId: number, clock: number): number[] => {
  const next: number[] = []
  let placed = clock === 0
  for (let index = 0; index + 1 < state.length; index += 2) {
    const id = state[index] ?? 0
    if (id === clientId) continue
    if (!placed && id > clientId) {
      next.push(clientId, clock)
      placed = true
    }
    next.push(id, state[index + 1] ?? 0)
  }
  if (!placed) next.push(clientId, clock)
  return next
}

/**
 * Makes the plan for either kind of trace: `precomputeSequentialUpdates`
 * (clients default 1) or `precomputeConcurrentUpdates` (clients default
 * `numAgents`). Throws as those do.
 */
export const createReplayPlan = (trace: Trace, options: ReplayPlanOptions = {}): ReplayPlan => {
  return trace.kind === 'sequential'
    ? precomputeSequentialUpdates(trace, options.clients, options)
    : precomputeConcurrentUpdates(trace, options)
}
