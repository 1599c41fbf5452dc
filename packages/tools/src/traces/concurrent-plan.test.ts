import { beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyPlanInCausalOrder } from './apply-plan.js'
import { precomputeConcurrentUpdates } from './concurrent-plan.js'
import { loadTrace } from './load-trace.js'
import type { ConcurrentTrace, ConcurrentTxn } from './parse-trace.js'
import { createReplayPlan } from './replay-plan.js'

const SEED = Number(process.env.QUIRE_TEST_SEED ?? Date.now() % 2 ** 31)

const loadConcurrent = async (name: string): Promise<ConcurrentTrace> => {
  const trace = await loadTrace(name)
  if (trace.kind !== 'concurrent') throw new Error(`${name} is not concurrent`)
  return trace
}

const tinyTrace = (txns: ConcurrentTxn[], endContent: string): ConcurrentTrace => ({
  kind: 'concurrent',
  name: 'tiny',
  endContent,
  expectedText: endContent,
  numAgents: 3,
  txns,
})

let friends: ConcurrentTrace
let a1: ConcurrentTrace
let a2: ConcurrentTrace

beforeAll(async () => {
  friends = await loadConcurrent('friendsforever')
  a1 = await loadConcurrent('A1')
  a2 = await loadConcurrent('A2')
})

describe('precomputeConcurrentUpdates', () => {
  it('applies each txn against its parents, not against concurrent branches', () => {
    // Two agents branch from "ab" and both edit position 1 of it; agent 2 merges.
    const trace = tinyTrace(
      [
        { parents: [], agent: 0, patches: [[0, 0, 'ab']] },
        { parents: [0], agent: 0, patches: [[1, 0, 'X']] },
        { parents: [0], agent: 1, patches: [[1, 1, 'Y']] },
        { parents: [1, 2], agent: 2, patches: [[0, 0, '>']] },
      ],
      '>aXY',
    )
    const plan = precomputeConcurrentUpdates(trace)
    expect(plan.steps.map((step) => step.dependsOn)).toEqual([[], [0], [0], [1, 2]])
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe('>aXY')
  })

  it(`replays all of friendsforever with one client per agent (seed ${SEED})`, () => {
    const plan = precomputeConcurrentUpdates(friends)
    expect(plan.clients).toBe(2)
    expect(plan.totalEdits).toBe(23_720 + 2_358)
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(friends.endContent)
    expect(applyPlanInCausalOrder(plan, { seed: SEED + 1 })).toBe(friends.endContent)
  })

  it(`replays all of A1 on 204 clients (seed ${SEED})`, () => {
    const plan = precomputeConcurrentUpdates(a1)
    expect(plan.clients).toBe(204)
    expect(plan.totalEdits).toBe(947_337)
    plan.steps.forEach((step, index) => {
      expect(step.client).toBe(a1.txns[index]?.agent)
      const clientId = [...Y.parseUpdateMeta(step.update).to.keys()][0]
      if (clientId !== undefined) expect(clientId).toBe(step.agent + 1)
    })
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(a1.endContent)
  })

  it(`replays all of A2 to the text of A2.yjs (seed ${SEED})`, () => {
    const plan = precomputeConcurrentUpdates(a2)
    expect(plan.expectedText).toBe(a2.expectedText)
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(a2.expectedText)
  })

  it(`replays a prefix of A1 to the merge of its heads (seed ${SEED})`, () => {
    const plan = precomputeConcurrentUpdates(a1, { limitTxns: 400 })
    expect(plan.steps.length).toBe(400)
    expect(plan.expectedText).not.toBe(a1.endContent)
    expect(applyPlanInCausalOrder(plan, { seed: SEED })).toBe(plan.expectedText)
  })

  it('maps agents onto fewer clients round-robin', () => {
    const plan = precomputeConcurrentUpdates(a1, { clients: 10, limitTxns: 200 })
    expect(plan.clients).toBe(10)
    for (const step of plan.steps) expect(step.client).toBe(step.agent % 10)
  })

  it('refuses client counts outside 1..numAgents', () => {
    expect(() => precomputeConcurrentUpdates(friends, { clients: 0 })).toThrow(
      'friendsforever: clients must be an integer from 1 to numAgents (2), got 0',
    )
    expect(() => createReplayPlan(friends, { clients: 3 })).toThrow(/got 3/)
  })

  it('refuses an agent that is concurrent with itself', () => {
    const trace = tinyTrace(
      [
        { parents: [], agent: 0, patches: [[0, 0, 'a']] },
        { parents: [0], agent: 1, patches: [[1, 0, 'b']] },
        { parents: [0], agent: 1, patches: [[1, 0, 'c']] },
      ],
      'abc',
    )
    expect(() => precomputeConcurrentUpdates(trace)).toThrow('tiny: cannot replay txn 2')
  })

  it('refuses a patch that does not fit its branch unless told to clamp', () => {
    const trace = tinyTrace(
      [
        { parents: [], agent: 0, patches: [[0, 0, 'a']] },
        { parents: [0], agent: 1, patches: [[2, 0, 'b']] },
      ],
      'ab',
    )
    expect(() => precomputeConcurrentUpdates(trace)).toThrow('tiny: txn 1 does not fit')
    const clamped = precomputeConcurrentUpdates(trace, { positions: 'clamp' })
    expect(clamped.expectedText).toBe('ab')
  })
})
