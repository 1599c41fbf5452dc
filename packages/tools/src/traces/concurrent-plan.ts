/**
 * Replay plans for concurrent traces (friendsforever, A1, A2).
 *
 * A transaction's positions are only valid against the merge of its
 * parents' states. A live network client also receives concurrent edits from
 * other clients, so it cannot apply the patches itself without a private
 * snapshot of that state per pending transaction. Instead the updates are
 * made offline, once: each transaction is applied to a Y.Doc holding exactly
 * its parents' merged state (see `branch-docs.ts`), with clientID
 * agent + 1 as in the README, and the update it emits is kept. A network
 * client then just sends its agents' updates in file order, each once its
 * parents' updates have reached it: positions are right by construction,
 * receivers never get an update whose dependencies they lack, and every
 * causal delivery order converges to the same text (checked by the tests).
 *
 * Measured on a shared 2-core machine: friendsforever about 0.4 s, A1 about
 * 0.6 s, A2 about 6 s (the README's copy-per-fork replay took 100 s on A2).
 */
import { BranchDocs, IDLE_CLIENT_ID, type Branch } from './branch-docs.js'
import type { ConcurrentTrace } from './parse-trace.js'
import { applyPatchesToYText, countEdits, type PositionMode } from './patches.js'
import {
  encodeStatePairs,
  resolveTxnCount,
  transactCapturingUpdate,
  type ReplayPlan,
  type ReplayStep,
} from './replay-step.js'

/** Options of `precomputeConcurrentUpdates`. */
export interface ConcurrentPlanOptions {
  /**
   * Network clients; agent `a` is sent by client `a % clients`. Any number
   * from 1 to `numAgents` is correct, since updates are made offline against
   * the parents' states: a client holding several agents only sends more
   * streams, in file order, which is a causal order for all of them.
   * @default trace.numAgents (one client per agent)
   */
  readonly clients?: number
  /**
   * Replay only the first `limitTxns` transactions. Any prefix in file order
   * is causally closed, because parents always come earlier.
   * @default all transactions
   */
  readonly limitTxns?: number
  /**
   * What a patch reaching past the end of its branch does: `strict` throws,
   * `clamp` lets Y.Text clamp it. Such patches only occur where Yjs orders
   * concurrent same-position inserts unlike the recording (A2: its branches
   * then delete the same characters and come out shorter), and the README's
   * check value for A2 is exactly what clamping gives.
   * @default 'clamp' when the trace's expectedText differs from endContent
   * (A2), else 'strict'
   */
  readonly positions?: PositionMode
}

const resolveClients = (trace: ConcurrentTrace, clients: number | undefined): number => {
  const count = clients ?? trace.numAgents
  if (!Number.isSafeInteger(count) || count < 1 || count > trace.numAgents) {
    throw new Error(
      `${trace.name}: clients must be an integer from 1 to numAgents (${trace.numAgents}), got ${count}`,
    )
  }
  return count
}

/**
 * Applies txn `index` to a doc holding its parents' state and returns its
 * step (without the client, which the caller assigns).
 */
const makeStep = (
  trace: ConcurrentTrace,
  branches: BranchDocs,
  index: number,
  positions: PositionMode,
): Omit<ReplayStep, 'client'> => {
  const txn = trace.txns[index]
  if (txn === undefined) throw new Error(`${trace.name}: no txn ${index}`)
  let branch: Branch
  try {
    branch = branches.open(index)
  } catch (err) {
    throw new Error(`${trace.name}: cannot replay txn ${index}`, { cause: err })
  }

  const doc = branch.doc
  const requiredState = encodeStatePairs(doc)
  doc.clientID = txn.agent + 1
  let update: Uint8Array
  try {
    update = transactCapturingUpdate(doc, () => {
      applyPatchesToYText(doc.getText('text'), txn.patches, positions)
    })
  } catch (err) {
    doc.destroy()
    throw new Error(`${trace.name}: txn ${index} does not fit its parents' state`, { cause: err })
  }
  doc.clientID = IDLE_CLIENT_ID
  branches.close(index, branch, update)

  const edits = countEdits(txn.patches)
  return { agent: txn.agent, update, dependsOn: txn.parents, requiredState, edits }
}

/**
 * Makes the update of every transaction (of the first `limitTxns`) of a
 * concurrent trace offline, as described above, and returns them as a plan:
 * step `i` is txn `i`, sent by client `agent % clients`, depending on the
 * txn's parents. `expectedText` is `trace.expectedText` for the whole trace
 * and the merged offline result for a prefix.
 *
 * Throws when `clients` is out of range, when a patch does not fit its
 * branch, when an agent is concurrent with itself (two branches would mint
 * the same Yjs IDs), or when the full replay does not give `expectedText`.
 */
export const precomputeConcurrentUpdates = (
  trace: ConcurrentTrace,
  options: ConcurrentPlanOptions = {},
): ReplayPlan => {
  const clients = resolveClients(trace, options.clients)
  const count = resolveTxnCount(trace.txns.length, options.limitTxns)
  const branches = new BranchDocs(trace.txns.slice(0, count), trace.numAgents)
  const positions =
    options.positions ?? (trace.expectedText === trace.endContent ? 'strict' : 'clamp')
  const steps: ReplayStep[] = []
  let totalEdits = 0

  try {
    for (let index = 0; index < count; index++) {
      const step = makeStep(trace, branches, index, positions)
      steps.push({ ...step, client: step.agent % clients })
      totalEdits += step.edits
    }

    const replayedText = branches.mergeAll()
    const isFull = count === trace.txns.length
    if (isFull && replayedText !== trace.expectedText) {
      throw new Error(
        `${trace.name}: offline Yjs replay gives ${replayedText.length} chars, ` +
          `not the expected ${trace.expectedText.length}`,
      )
    }
    const expectedText = isFull ? trace.expectedText : replayedText
    return { kind: 'concurrent', name: trace.name, clients, expectedText, steps, totalEdits }
  } finally {
    branches.destroy()
  }
}
