/**
 * The shape every replay plan shares, and the per-step readiness check a
 * network client runs before sending.
 *
 * A plan is made offline: each trace transaction is applied once to a Y.Doc
 * holding exactly the state its author saw, and the Yjs update it produces is
 * kept. Network clients then only send those bytes; they never edit their own
 * Y.Doc. This makes every position valid by construction, however the
 * network interleaves deliveries, and costs one offline replay per plan.
 */
import * as Y from 'yjs'

/**
 * One update to send. Step `i` of a plan replays transaction `i` of the
 * trace; steps are listed in a causal order (file order).
 */
export interface ReplayStep {
  /** Network client (0-based) that sends this step. */
  readonly client: number
  /**
   * Who made the edit: the trace agent for concurrent traces, the owning
   * client for sequential ones. The update's structs carry Yjs clientID
   * `agent + 1` (0 is never used).
   */
  readonly agent: number
  /** The Yjs update of this transaction, V1 encoding (what y-websocket sends). */
  readonly update: Uint8Array
  /**
   * Steps that must have been integrated before this one is sent: minimal,
   * so the previous step for sequential traces and the trace parents for
   * concurrent ones. Transitively this is everything the author had seen.
   */
  readonly dependsOn: readonly number[]
  /**
   * The Yjs-visible part of `dependsOn`: the state vector of the document
   * this step was made against, flattened as `[clientID, clock, ...]` pairs
   * sorted by clientID, zero clocks left out. Check it with `isStepReady`.
   */
  readonly requiredState: readonly number[]
  /** Single-character edits in this step: characters deleted plus inserted. */
  readonly edits: number
}

/** Work for `clients` network clients replaying one trace. */
export interface ReplayPlan {
  readonly kind: 'sequential' | 'concurrent'
  /** The trace's name, e.g. `automerge-paper`. */
  readonly name: string
  /** Number of network clients; every `step.client` is below it. */
  readonly clients: number
  /** Text of the root Y.Text `text` once every step is integrated. */
  readonly expectedText: string
  readonly steps: readonly ReplayStep[]
  /** Sum of `edits` over the steps, for throughput in edits per second. */
  readonly totalEdits: number
}

/**
 * Whether `doc` has integrated the structs `step` was made against, so the
 * client may send it and no receiver will have to park it as pending. Costs
 * one state lookup per entry of `step.requiredState`.
 *
 * Limit: deletions create no structs, so a state vector cannot show whether
 * a delete-only step was received. Sending early is still safe (the update
 * was made against the right state, and nothing references a deletion), but
 * a harness that wants the exact order must track `dependsOn` itself, for
 * example by counting the steps it has seen.
 */
export const isStepReady = (doc: Y.Doc, step: ReplayStep): boolean => {
  const required = step.requiredState
  for (let index = 0; index + 1 < required.length; index += 2) {
    if (Y.getState(doc.store, required[index] ?? 0) < (required[index + 1] ?? 0)) return false
  }
  return true
}

/** An update that changes nothing, sent for a transaction without effect. @internal */
export const EMPTY_UPDATE: Uint8Array = Y.encodeStateAsUpdate(new Y.Doc())

/**
 * Runs `change` as one transaction on `doc` and returns the V1 update it
 * produced, or `EMPTY_UPDATE` when it changed nothing. @internal
 */
export const transactCapturingUpdate = (doc: Y.Doc, change: () => void): Uint8Array => {
  let captured: Uint8Array = EMPTY_UPDATE
  const onUpdate = (update: Uint8Array): void => {
    captured = update
  }
  doc.on('update', onUpdate)
  try {
    doc.transact(change)
  } finally {
    doc.off('update', onUpdate)
  }
  return captured
}

/** The state vector of `doc` as sorted `[clientID, clock, ...]` pairs. @internal */
export const encodeStatePairs = (doc: Y.Doc): number[] => {
  const pairs: number[] = []
  const clients = [...doc.store.clients.keys()].sort((a, b) => a - b)
  for (const clientId of clients) {
    const clock = Y.getState(doc.store, clientId)
    if (clock > 0) pairs.push(clientId, clock)
  }
  return pairs
}

/**
 * Number of transactions to replay: all of them, or the first `limitTxns`
 * (at most all). Throws when `limitTxns` is not a non-negative integer.
 * @internal
 */
export const resolveTxnCount = (total: number, limitTxns: number | undefined): number => {
  if (limitTxns === undefined) return total
  if (!Number.isSafeInteger(limitTxns) || limitTxns < 0) {
    throw new Error(`limitTxns must be a non-negative integer, got ${limitTxns}`)
  }
  return Math.min(limitTxns, total)
}
