/**
 * The one error type the storage layer throws on purpose. Each carries a
 * stable `code` callers can switch on, and the underlying driver error as
 * `cause` when there is one. When the server-wide `AppError` registry in
 * `errors/` lands, these codes move there unchanged.
 */

/**
 * Stable codes of `StoreError`, with their meaning:
 * - `STORE_CLOSED`: the store (or its writer or compactor) was closed before
 *   or while the call ran; nothing was written for it.
 * - `STORE_LOAD_FAILED`: reading a document failed; the cause is the driver
 *   error. The document must not be treated as empty.
 * - `STORE_LOG_GAP`: the update log of a document skips a sequence number, a
 *   broken invariant (the log is meant to be gap-free); compaction refuses to
 *   build a checkpoint over it.
 * - `STORE_MISUSE`: a call the storage layer does not support, such as
 *   closing a transaction's client; a bug in the caller.
 */
export type StoreErrorCode = 'STORE_CLOSED' | 'STORE_LOAD_FAILED' | 'STORE_LOG_GAP' | 'STORE_MISUSE'

/** An expected storage failure with a stable code and the driver error as `cause`. */
export class StoreError extends Error {
  /** Stable identifier of the failure; see `StoreErrorCode`. */
  readonly code: StoreErrorCode

  constructor(code: StoreErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.name = 'StoreError'
    this.code = code
  }
}

/** Whether `err` is a `StoreError` with the given code. */
export const isStoreError = (err: unknown, code?: StoreErrorCode): err is StoreError =>
  err instanceof StoreError && (code === undefined || err.code === code)
