/**
 * What a receiving client needs to know about each step to tell when it has
 * arrived: the Yjs id range its structs end at, or, for a step that only
 * deletes (deletions create no structs), the ranges it deletes.
 */
import { isRangeDeleted } from '@quire/protocol'
import * as Y from 'yjs'
import type { ReplayPlan } from '../traces/index.js'

/** Arrival facts of one step. */
export type StepArrival =
  | { readonly kind: 'structs'; readonly clientId: number; readonly endClock: number }
  | { readonly kind: 'deletes'; readonly ranges: readonly (readonly [number, number, number])[] }
  | { readonly kind: 'empty' }

/** Arrival facts of every step, and the struct steps of each Yjs client in clock order. */
export interface StepIndex {
  readonly arrivals: readonly StepArrival[]
  /** Yjs clientID → indexes of its struct-carrying steps, in increasing clock order. */
  readonly stepsByClientId: ReadonlyMap<number, readonly number[]>
}

/** Builds the index of a plan: one `parseUpdateMeta` per step. */
export const indexSteps = (plan: ReplayPlan): StepIndex => {
  const arrivals: StepArrival[] = []
  const stepsByClientId = new Map<number, number[]>()
  plan.steps.forEach((step, index) => {
    const meta = Y.parseUpdateMeta(step.update)
    const [entry] = [...meta.to.entries()]
    if (entry !== undefined) {
      const [clientId, endClock] = entry
      arrivals.push({ kind: 'structs', clientId, endClock })
      const list = stepsByClientId.get(clientId) ?? []
      list.push(index)
      stepsByClientId.set(clientId, list)
      return
    }
    const ranges: [number, number, number][] = []
    for (const [clientId, items] of Y.decodeUpdate(step.update).ds.clients) {
      for (const item of items) ranges.push([clientId, item.clock, item.len])
    }
    arrivals.push(ranges.length === 0 ? { kind: 'empty' } : { kind: 'deletes', ranges })
  })
  return { arrivals, stepsByClientId }
}

/** Whether `doc` has integrated the step with these arrival facts. */
export const hasArrived = (doc: Y.Doc, arrival: StepArrival): boolean => {
  switch (arrival.kind) {
    case 'structs':
      return Y.getState(doc.store, arrival.clientId) >= arrival.endClock
    case 'deletes':
      return arrival.ranges.every(([clientId, clock, length]) =>
        isRangeDeleted(doc, clientId, clock, length),
      )
    case 'empty':
      return true
  }
}
