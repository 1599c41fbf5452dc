/**
 * The working Y.Docs of an offline concurrent replay: for each transaction,
 * a doc holding exactly the merge of its parents' states. @internal
 *
 * The README's "easy way" copies a parent's doc for every child but the
 * last. A Yjs copy integrates the whole document, and copies dominate: A2
 * needs 3,512 of them (about 100 s), friendsforever 2,258. Instead this
 * keeps a small pool of docs, each knowing exactly which transactions it
 * holds. A child takes the pool doc whose transactions are all among its
 * ancestors and that misses the fewest update bytes, and catches up by
 * applying the missing ancestors' own updates in file order (a causal
 * order). Yjs converges to one state whatever the delivery order and picks
 * origins by item ID, so a doc caught up this way yields the same update as
 * a copy would; the tests check the final texts, A2's tie-breaks included.
 *
 * Sets of transactions are closed under ancestry, and an agent's
 * transactions form a chain (README: agents are never concurrent with
 * themselves; `open` checks it), so a set is a version vector: per agent, how
 * many of its transactions it holds.
 */
import * as Y from 'yjs'
import type { ConcurrentTxn } from './parse-trace.js'

/**
 * clientID a working doc holds between transactions. Agents use 1..N, so
 * merging a parent that contains agent edits never looks like another client
 * using this doc's id (Yjs would log that and switch to a random id).
 */
export const IDLE_CLIENT_ID = 0

/** Per agent, how many of its transactions a set holds. Never mutated once stored. */
type VersionVector = Uint32Array

/** A working doc and the transactions it has integrated. @internal */
export interface Branch {
  readonly doc: Y.Doc
  readonly version: VersionVector
}

const isCoveredBy = (inner: VersionVector, outer: VersionVector): boolean => {
  for (let agent = 0; agent < inner.length; agent++) {
    if ((inner[agent] ?? 0) > (outer[agent] ?? 0)) return false
  }
  return true
}

/**
 * The pool of working docs of one replay. Transactions are opened once
 * each, in file order; every opened branch must be closed with its update.
 * @internal
 */
export class BranchDocs {
  private readonly txns: readonly ConcurrentTxn[]
  private readonly numAgents: number
  /** Each agent's transactions, in file order. */
  private readonly chains: number[][]
  /** Position of each txn in its agent's chain. */
  private readonly chainPositions: number[]
  /** Per agent, the update bytes of its first k closed txns, at index k. */
  private readonly chainBytes: number[][]
  private readonly pool: Branch[] = []
  /** Version of each txn's state including itself, kept while children wait. */
  private readonly versions: (VersionVector | undefined)[]
  private readonly waitingChildren: number[]
  private readonly updates: (Uint8Array | undefined)[]

  constructor(txns: readonly ConcurrentTxn[], numAgents: number) {
    this.txns = txns
    this.numAgents = numAgents
    this.chains = Array.from({ length: numAgents }, (): number[] => [])
    this.chainPositions = new Array<number>(txns.length).fill(0)
    this.chainBytes = Array.from({ length: numAgents }, (): number[] => [0])
    this.versions = new Array<VersionVector | undefined>(txns.length)
    this.updates = new Array<Uint8Array | undefined>(txns.length)
    this.waitingChildren = new Array<number>(txns.length).fill(0)
    txns.forEach((txn, index) => {
      const chain = this.chains[txn.agent] ?? []
      this.chainPositions[index] = chain.length
      chain.push(index)
      for (const parent of txn.parents) {
        this.waitingChildren[parent] = (this.waitingChildren[parent] ?? 0) + 1
      }
    })
  }

  /**
   * A branch whose doc holds exactly the merge of txn `txn`'s parents (empty
   * for none), with clientID `IDLE_CLIENT_ID`. The caller applies the
   * transaction, then hands the branch back with `close`. Throws when the
   * parents do not include the agent's previous transaction.
   */
  open(txn: number): Branch {
    const { parents, agent } = this.txnAt(txn)
    const target = new Uint32Array(this.numAgents)
    for (const parent of parents) {
      const version = this.versions[parent]
      if (version === undefined) throw new Error(`the state after txn ${parent} is no longer held`)
      for (let other = 0; other < target.length; other++) {
        target[other] = Math.max(target[other] ?? 0, version[other] ?? 0)
      }
      const waiting = (this.waitingChildren[parent] ?? 0) - 1
      this.waitingChildren[parent] = waiting
      if (waiting === 0) this.versions[parent] = undefined
    }

    // Two branches of one agent would mint the same Yjs IDs.
    if (target[agent] !== this.chainPositions[txn]) {
      throw new Error(`txn ${txn} is concurrent with an earlier txn of its agent ${agent}`)
    }
    return this.catchUp(this.takeClosest(target), target)
  }

  /** Records txn `txn`'s update and returns its branch to the pool. */
  close(txn: number, branch: Branch, update: Uint8Array): void {
    const { agent } = this.txnAt(txn)
    this.updates[txn] = update
    const bytes = this.chainBytes[agent] ?? []
    bytes.push((bytes[bytes.length - 1] ?? 0) + update.length)
    const version = branch.version.slice()
    version[agent] = (version[agent] ?? 0) + 1
    if ((this.waitingChildren[txn] ?? 0) > 0) this.versions[txn] = version
    this.pool.push({ doc: branch.doc, version })
  }

  /** The text once every closed transaction is merged into one doc. */
  mergeAll(): string {
    const all = new Uint32Array(this.numAgents)
    this.updates.forEach((update, txn) => {
      const agent = this.txnAt(txn).agent
      if (update !== undefined) all[agent] = (all[agent] ?? 0) + 1
    })
    return this.catchUp(this.takeClosest(all), all).doc.getText('text').toString()
  }

  /** Destroys every pooled doc. */
  destroy(): void {
    for (const branch of this.pool) branch.doc.destroy()
    this.pool.length = 0
  }

  private txnAt(txn: number): ConcurrentTxn {
    const found = this.txns[txn]
    if (found === undefined) throw new Error(`no txn ${txn}`)
    return found
  }

  /** Transactions in `target` but not in `have`, in file order. */
  private listMissing(have: VersionVector, target: VersionVector): number[] {
    const missing: number[] = []
    for (let agent = 0; agent < target.length; agent++) {
      const chain = this.chains[agent] ?? []
      for (let held = have[agent] ?? 0; held < (target[agent] ?? 0); held++) {
        missing.push(chain[held] ?? -1)
      }
    }
    return missing.sort((a, b) => a - b)
  }

  /** Update bytes of the transactions in `target` but not in `have`. */
  private countMissingBytes(have: VersionVector, target: VersionVector): number {
    let bytes = 0
    for (let agent = 0; agent < target.length; agent++) {
      const sums = this.chainBytes[agent] ?? []
      bytes += (sums[target[agent] ?? 0] ?? 0) - (sums[have[agent] ?? 0] ?? 0)
    }
    return bytes
  }

  /** Removes from the pool the doc cheapest to bring to `target`, or makes an empty one. */
  private takeClosest(target: VersionVector): Branch {
    let best = -1
    let bestBytes = Infinity
    this.pool.forEach((branch, index) => {
      if (!isCoveredBy(branch.version, target)) return
      const bytes = this.countMissingBytes(branch.version, target)
      if (bytes < bestBytes) {
        best = index
        bestBytes = bytes
      }
    })
    const [closest] = best >= 0 ? this.pool.splice(best, 1) : []
    if (closest !== undefined) return closest
    const doc = new Y.Doc()
    doc.clientID = IDLE_CLIENT_ID
    return { doc, version: new Uint32Array(this.numAgents) }
  }

  /** Applies the updates `branch` lacks for `target`, as one transaction. */
  private catchUp(branch: Branch, target: VersionVector): Branch {
    const missing = this.listMissing(branch.version, target)
    if (missing.length === 0) return branch
    branch.doc.transact(() => {
      for (const txn of missing) {
        const update = this.updates[txn]
        if (update === undefined) throw new Error(`txn ${txn} is needed before it was made`)
        Y.applyUpdate(branch.doc, update)
      }
    })
    return { doc: branch.doc, version: target }
  }
}
