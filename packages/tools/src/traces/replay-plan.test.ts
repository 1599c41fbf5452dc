import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyPlanInCausalOrder } from './apply-plan.js'
import { loadTrace } from './load-trace.js'
import type { SequentialTrace } from './parse-trace.js'
import { applyPatchesToString } from './patches.js'
import { createReplayPlan, precomputeSequentialUpdates } from './replay-plan.js'
import { isStepReady, type ReplayPlan } from './replay-step.js'

const SEED = Number(process.env.QUIRE_TEST_SEED ?? Date.now() % 2 ** 31)

const loadSequential = async (name: string): Promise<SequentialTrace> => {
  const trace = await loadTrace(name)
  if (trace.kind !== 'sequential') throw new Error(`${name} is not sequential`)
  return trace
}

const textAfter = (trace: SequentialTrace, count: number): string =>
  trace.txns.slice(0, count).reduce((text, txn) => applyPatchesToString(text, txn.patches), '')

/** The Yjs clientID whose structs an update carries, if any. */
const structClientOf = (update: Uint8Array): number | undefined =>
  [...Y.parseUpdateMeta(update).to.keys()][0]

let automerge: SequentialTrace
let sephBlog: SequentialTrace
let svelte: SequentialTrace

beforeAll(async () => {
  automerge = await loadSequential('automerge-paper')
  sephBlog = await loadSequential('seph-blog1')
  svelte = await loadSequential('sveltecomponent')
})

describe('precomputeSequentialUpdates', () => {
  it(`replays a 5,000-txn prefix of automerge-paper on 3 clients (seed ${SEED})`, () => {
    const plan = precomputeSequentialUpdates(automerge, 3, { limitTxns: 5_000 })
    expect(plan.steps.length).toBe(5_000)
    expect(plan.expectedText).toBe(textAfter(automerge, 5_000))
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(plan.expectedText)
  })

  it('alternates clients every txn by default and chains each step to the previous one', () => {
    const plan = precomputeSequentialUpdates(automerge, 3, { limitTxns: 30 })
    plan.steps.forEach((step, index) => {
      expect(step.client).toBe(index % 3)
      expect(step.agent).toBe(step.client)
      expect(step.dependsOn).toEqual(index === 0 ? [] : [index - 1])
      const clientId = structClientOf(step.update)
      if (clientId !== undefined) expect(clientId).toBe(step.client + 1)
    })
  })

  it('hands out runs of chunkTxns consecutive txns', () => {
    const plan = precomputeSequentialUpdates(sephBlog, 2, { chunkTxns: 4, limitTxns: 16 })
    expect(plan.steps.map((step) => step.client)).toEqual([
      0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1,
    ])
  })

  it(`replays a 20,000-txn prefix of seph-blog1 on 4 clients in runs of 7 (seed ${SEED})`, () => {
    const plan = precomputeSequentialUpdates(sephBlog, 4, { chunkTxns: 7, limitTxns: 20_000 })
    expect(plan.expectedText).toBe(textAfter(sephBlog, 20_000))
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(plan.expectedText)
  })

  it(`replays all of sveltecomponent on 2 clients (seed ${SEED})`, () => {
    const plan = precomputeSequentialUpdates(svelte, 2, { chunkTxns: 5 })
    expect(plan.expectedText).toBe(svelte.endContent)
    expect(plan.totalEdits).toBe(93_984 + 75_533)
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(svelte.endContent)
  })

  it(`replays all of automerge-paper on 4 clients (seed ${SEED})`, () => {
    const plan = precomputeSequentialUpdates(automerge, 4)
    // The published B4 figure: 259,778 single-character edits.
    expect(plan.totalEdits).toBe(259_778)
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(automerge.endContent)
  })

  it('makes a step ready only once the previous inserts have arrived', () => {
    const plan = precomputeSequentialUpdates(automerge, 2, { limitTxns: 3 })
    const [first, second] = plan.steps
    if (first === undefined || second === undefined) throw new Error('plan too short')
    const doc = new Y.Doc()
    expect(isStepReady(doc, first)).toBe(true)
    expect(isStepReady(doc, second)).toBe(false)
    Y.applyUpdate(doc, first.update)
    expect(isStepReady(doc, second)).toBe(true)
    doc.destroy()
  })

  it('refuses client and chunk counts that are not positive integers', () => {
    expect(() => precomputeSequentialUpdates(svelte, 0)).toThrow(
      'clients must be a positive integer, got 0',
    )
    expect(() => precomputeSequentialUpdates(svelte, 2, { chunkTxns: 1.5 })).toThrow(/chunkTxns/)
    expect(() => precomputeSequentialUpdates(svelte, 2, { limitTxns: -1 })).toThrow(/limitTxns/)
  })

  it('names the txn whose patch does not fit', () => {
    const broken: SequentialTrace = {
      ...svelte,
      name: 'broken',
      txns: [{ patches: [[0, 0, 'ab']] }, { patches: [[3, 0, 'c']] }],
    }
    expect(() => precomputeSequentialUpdates(broken, 1)).toThrow('broken: txn 1 does not apply')
  })
})

describe('createReplayPlan', () => {
  it('defaults to one client for sequential traces', () => {
    const plan: ReplayPlan = createReplayPlan(svelte, { limitTxns: 100 })
    expect(plan.kind).toBe('sequential')
    expect(plan.clients).toBe(1)
    expect(new Set(plan.steps.map((step) => step.client))).toEqual(new Set([0]))
  })

  it('counts the edits of every step', () => {
    const plan = createReplayPlan(sephBlog, { clients: 2, limitTxns: 2_000 })
    const edits = sephBlog.txns
      .slice(0, 2_000)
      .reduce(
        (sum, txn) => sum + txn.patches.reduce((n, [, del, ins]) => n + del + ins.length, 0),
        0,
      )
    expect(plan.totalEdits).toBe(edits)
    expect(plan.steps.reduce((sum, step) => sum + step.edits, 0)).toBe(edits)
  })
})
