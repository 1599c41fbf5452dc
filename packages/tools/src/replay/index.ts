export { LatencyRecorder, type LatencySummary } from './latency-recorder.js'
export { ReplayClient, TRACE_TEXT_NAME, waitFor } from './replay-client.js'
export { REPLAY_HELP, runReplayCommand, verifyDocument } from './replay-command.js'
export {
  describeDifference,
  type ReplayResult,
  type ReplayRunOptions,
  runReplay,
} from './run-replay.js'
export { SavedTracker, type SavedCounters } from './saved-tracking-socket.js'
