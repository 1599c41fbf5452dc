/**
 * What the app keeps in the browser: each opened document's Yjs state in an
 * IndexedDB database (y-indexeddb), and a few small records in
 * localStorage. Sign-out removes all of it (the server also sends
 * `Clear-Site-Data`, which not every browser honours).
 */

const DOC_DB_PREFIX = 'quire-doc-'
const CACHED_DOCS_KEY = 'quire:cached-docs'

/** The IndexedDB database holding one document's local copy. */
export const docDatabaseName = (docId: string): string => `${DOC_DB_PREFIX}${docId}`

/** Notes that a document has a local copy, so sign-out can find it without `indexedDB.databases()`. */
export const rememberCachedDocument = (docId: string): void => {
  const ids = new Set(readCachedDocumentIds())
  if (ids.has(docId)) return
  ids.add(docId)
  writeStorage(CACHED_DOCS_KEY, JSON.stringify([...ids]))
}

const readCachedDocumentIds = (): string[] => {
  const parsed = parseJson(readStorage(CACHED_DOCS_KEY))
  return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : []
}

/** Deletes one document's local copy (after access was lost, or to start over). */
export const deleteDocumentCache = (docId: string): Promise<void> =>
  deleteDatabase(docDatabaseName(docId)).then(() => {
    removeStorage(unsavedKey(docId))
    removeStorage(docMetaKey(docId))
  })

/**
 * Removes every trace of the signed-in person: the local document copies
 * and all local and session storage. Call it after the documents are
 * closed (an open y-indexeddb connection blocks the deletion).
 */
export const clearOfflineData = async (): Promise<void> => {
  const names = new Set(readCachedDocumentIds().map(docDatabaseName))
  // indexedDB.databases() also finds copies the list missed (a tab that
  // crashed before writing it); older browsers lack it.
  const listed = (await indexedDB.databases?.().catch(() => [])) ?? []
  for (const { name } of listed) if (name?.startsWith(DOC_DB_PREFIX) === true) names.add(name)
  await Promise.all([...names].map(deleteDatabase))
  localStorage.clear()
  sessionStorage.clear()
}

const deleteDatabase = (name: string): Promise<void> =>
  new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name)
    // Resolve on every outcome: a blocked or failed deletion must not stop
    // sign-out; the database is removed once its last connection closes.
    request.onsuccess = () => resolve()
    request.onerror = () => resolve()
    request.onblocked = () => resolve()
  })

const unsavedKey = (docId: string): string => `quire:unsaved:${docId}`
const docMetaKey = (docId: string): string => `quire:doc:${docId}`

/**
 * Whether the local copy of a document holds edits the server has not
 * acknowledged; kept across reloads so an offline reload still says so.
 */
export const loadHasUnsavedEdits = (docId: string): boolean =>
  readStorage(unsavedKey(docId)) === '1'

export const storeHasUnsavedEdits = (docId: string, hasUnsaved: boolean): void => {
  if (hasUnsaved) writeStorage(unsavedKey(docId), '1')
  else removeStorage(unsavedKey(docId))
}

/** The last document metadata seen online, so the editor opens offline. */
export const loadCachedJson = (key: string): unknown => parseJson(readStorage(key))

export const storeCachedJson = (key: string, value: unknown): void =>
  writeStorage(key, JSON.stringify(value))

export const cachedDocumentKey = docMetaKey

/** Key of the signed-in person's last `/api/auth/me` answer. */
export const CACHED_ME_KEY = 'quire:me'

const parseJson = (text: string | null): unknown => {
  if (text === null) return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

// Storage can throw (quota, disabled storage); the cache is a convenience,
// so failures are ignored.
const readStorage = (key: string): string | null => {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

const writeStorage = (key: string, value: string): void => {
  try {
    localStorage.setItem(key, value)
  } catch {
    // See above: a full or disabled storage only loses the convenience.
  }
}

const removeStorage = (key: string): void => {
  try {
    localStorage.removeItem(key)
  } catch {
    // See above.
  }
}
