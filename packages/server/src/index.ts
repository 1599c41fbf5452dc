export * from './config/index.js'
export { createLogger, type Logger } from './log/index.js'
export { startQuireServer, type QuireServer, type StartOptions } from './main.js'
export {
  type DeadLetterSummary,
  listDeadLetters,
  openStoreForMaintenance,
  retryDeadLetters,
  type RetryOutcome,
} from './maintenance.js'
