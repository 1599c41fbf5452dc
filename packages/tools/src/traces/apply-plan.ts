/**
 * Applies a replay plan to one fresh Y.Doc in a random causal order: what a
 * receiver sees when the network delivers the steps in any order that
 * respects `dependsOn`. Used to check that a plan converges to its
 * `expectedText` without a server, and that its readiness data is right.
 */
import * as Y from 'yjs'
import { isStepReady, type ReplayPlan } from './replay-step.js'

/** Options of `applyPlanInCausalOrder`. */
export interface CausalOrderOptions {
  /**
   * Seed of the order chosen among the ready steps; the same seed gives the
   * same order. @default 1
   */
  readonly seed?: number
}

/** mulberry32: a tiny seeded generator of floats in [0, 1). */
const createRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/** For each step, the steps that list it in `dependsOn`. */
const listDependents = (plan: ReplayPlan): number[][] => {
  const dependents = plan.steps.map((): number[] => [])
  plan.steps.forEach((step, index) => {
    for (const dependency of step.dependsOn) {
      const list = dependents[dependency]
      if (list === undefined || dependency === index) {
        throw new Error(`${plan.name}: step ${index} depends on missing step ${dependency}`)
      }
      list.push(index)
    }
  })
  return dependents
}

/**
 * Applies every step of `plan` to a fresh Y.Doc, each once all its
 * `dependsOn` steps have been applied, picking randomly among the ready
 * steps, and returns the final text of the root Y.Text `text`.
 *
 * Throws when a step is applied while `isStepReady` says it is not, when
 * Yjs has to park anything as pending (a dependency the plan did not
 * declare), or when `dependsOn` has a cycle or points outside the plan.
 */
export const applyPlanInCausalOrder = (
  plan: ReplayPlan,
  options: CausalOrderOptions = {},
): string => {
  const random = createRandom(options.seed ?? 1)
  const dependents = listDependents(plan)
  const waiting = plan.steps.map((step) => step.dependsOn.length)
  const ready = waiting.flatMap((count, index) => (count === 0 ? [index] : []))
  const doc = new Y.Doc()
  let applied = 0

  try {
    while (ready.length > 0) {
      // Swap-remove a random ready step: O(1) per pick.
      const pick = Math.floor(random() * ready.length)
      const index = ready[pick] ?? 0
      ready[pick] = ready[ready.length - 1] ?? 0
      ready.pop()

      const step = plan.steps[index]
      if (step === undefined) throw new Error(`${plan.name}: no step ${index}`)
      if (!isStepReady(doc, step)) {
        throw new Error(
          `${plan.name}: step ${index} is not ready once its dependencies are applied`,
        )
      }
      Y.applyUpdate(doc, step.update)
      if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
        throw new Error(`${plan.name}: step ${index} left Yjs with pending updates`)
      }
      applied++

      for (const dependent of dependents[index] ?? []) {
        const left = (waiting[dependent] ?? 0) - 1
        waiting[dependent] = left
        if (left === 0) ready.push(dependent)
      }
    }
    if (applied !== plan.steps.length) {
      throw new Error(`${plan.name}: only ${applied} of ${plan.steps.length} steps became ready`)
    }
    return doc.getText('text').toString()
  } finally {
    doc.destroy()
  }
}
