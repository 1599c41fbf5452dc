/**
 * The server's structured logger: pino, JSON lines on stdout. Components get
 * a child logger with their context bound (`docId`, `connId`, `nodeId`).
 * Redaction is a second line of defence; the first is never passing
 * secrets, tokens, document content or awareness states to a log call.
 */
import { pino, type Logger } from 'pino'

export type { Logger } from 'pino'

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** pino level name. @default 'info' */
  readonly level?: string
  /** Where lines go; tests pass a stream to assert on them. @default stdout */
  readonly destination?: NodeJS.WritableStream
}

/** Paths pino replaces with `[redacted]` wherever they appear. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'cookie',
  '*.cookie',
  'authorization',
  '*.authorization',
  'req.headers.cookie',
  'req.headers.authorization',
]

/** Creates the process logger. */
export const createLogger = (options: LoggerOptions = {}): Logger =>
  pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination ?? process.stdout,
  )
