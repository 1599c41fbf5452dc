/**
 * The one error type the content conversions throw on purpose. Each carries
 * a stable `code` callers switch on (the import route maps them to 413 and
 * 400), and the underlying parser error as `cause` when there is one.
 */

/**
 * Stable codes of `ContentError`, with their meaning:
 * - `CONTENT_TOO_LARGE`: the input is over `MAX_IMPORT_BYTES`; nothing was
 *   parsed.
 * - `CONTENT_UNPARSABLE`: the parser or the schema refused the input; the
 *   cause says why (never the input itself).
 * - `CONTENT_TOO_COMPLEX`: converting the input took longer than the import
 *   converter allows (`createImportConverter`'s `timeoutMs`).
 * - `CONTENT_TOO_DEEP`: the content nests more than `MAX_DOCUMENT_DEPTH`
 *   levels (blockquotes in blockquotes...); it is neither imported nor
 *   exported, since every converter (and ProseMirror) walks it recursively.
 */
export type ContentErrorCode =
  'CONTENT_TOO_LARGE' | 'CONTENT_UNPARSABLE' | 'CONTENT_TOO_COMPLEX' | 'CONTENT_TOO_DEEP'

/** An expected conversion failure with a stable code and the parser error as `cause`. */
export class ContentError extends Error {
  /** Stable identifier of the failure; see `ContentErrorCode`. */
  readonly code: ContentErrorCode

  constructor(code: ContentErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.name = 'ContentError'
    this.code = code
  }
}

/** Whether `err` is a `ContentError` with the given code. */
export const isContentError = (err: unknown, code?: ContentErrorCode): err is ContentError =>
  err instanceof ContentError && (code === undefined || err.code === code)
