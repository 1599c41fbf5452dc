/**
 * Editing traces: loading the published traces from the shared data folder
 * and turning them into Yjs updates for network clients to replay.
 */
export { applyPlanInCausalOrder, type CausalOrderOptions } from './apply-plan.js'
export { precomputeConcurrentUpdates, type ConcurrentPlanOptions } from './concurrent-plan.js'
export {
  DEFAULT_TRACES_DIR,
  TRACE_NAMES,
  loadTrace,
  readYjsDocumentText,
  resolveTracePath,
  type LoadTraceOptions,
} from './load-trace.js'
export {
  parseTrace,
  type ConcurrentTrace,
  type ConcurrentTxn,
  type SequentialTrace,
  type SequentialTxn,
  type Trace,
} from './parse-trace.js'
export {
  applyPatchesToString,
  applyPatchesToYText,
  countEdits,
  type Patch,
  type PositionMode,
} from './patches.js'
export {
  DEFAULT_CHUNK_TXNS,
  createReplayPlan,
  precomputeSequentialUpdates,
  type ReplayPlanOptions,
  type SequentialPlanOptions,
} from './replay-plan.js'
export { isStepReady, type ReplayPlan, type ReplayStep } from './replay-step.js'
