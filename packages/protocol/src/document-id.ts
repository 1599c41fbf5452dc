/**
 * Document ids: 1 to 64 characters of ASCII letters, digits, `_` and `-`,
 * starting with a letter or digit. They appear in URLs, Redis keys and log
 * lines, so nothing that needs escaping is allowed.
 */
export const DOCUMENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Whether `value` is a well-formed document id. */
export const isDocumentId = (value: unknown): value is string =>
  typeof value === 'string' && DOCUMENT_ID_PATTERN.test(value)
