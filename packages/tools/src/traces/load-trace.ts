/**
 * Loads the published editing traces (see /work/shared/data/traces/README.md)
 * from the shared data folder at run time. The data is third-party and must
 * never be copied into the repository, so everything here reads it in place.
 */
import { access, readFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'
import * as Y from 'yjs'
import { parseTrace } from './parse-trace.js'
import type { Trace } from './parse-trace.js'

const gunzipAsync = promisify(gunzip)

/** The repository root (/work/main): four levels above this file, in src and in dist. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/**
 * Folder holding `sequential/`, `concurrent/` and `yjs-binary/`: the
 * `QUIRE_TRACES_DIR` environment variable when set and non-empty, else
 * `../shared/data/traces` relative to the repository root.
 */
// Read here rather than in config/: this is a developer tool's data path,
// resolved once at import, and the server never imports it.
export const DEFAULT_TRACES_DIR: string =
  process.env.QUIRE_TRACES_DIR !== undefined && process.env.QUIRE_TRACES_DIR !== ''
    ? resolve(process.env.QUIRE_TRACES_DIR)
    : resolve(REPO_ROOT, '../shared/data/traces')

/** Short names of the published traces, as accepted by `loadTrace`. */
export const TRACE_NAMES = [
  'automerge-paper',
  'seph-blog1',
  'sveltecomponent',
  'friendsforever',
  'A1',
  'A2',
] as const

/** Options of `loadTrace`. */
export interface LoadTraceOptions {
  /**
   * Folder searched for short names and for Yjs check files.
   * @default DEFAULT_TRACES_DIR
   */
  readonly tracesDir?: string
}

/**
 * Traces whose Yjs check value is not `endContent` but the text of a
 * published Yjs document, relative to the traces folder. A2 has concurrent
 * inserts at the same position, which Yjs and diamond-types order
 * differently; the README shows a replay with clientID = agent + 1 gives
 * exactly the text of `yjs-binary/A2.yjs`.
 */
const YJS_CHECK_FILES: Readonly<Record<string, string>> = { A2: 'yjs-binary/A2.yjs' }

const exists = async (path: string): Promise<boolean> => {
  try {
    await access(path)
    return true
  } catch {
    // Missing or unreadable: either way this candidate is not the trace.
    return false
  }
}

const looksLikePath = (pathOrName: string): boolean =>
  pathOrName.includes('/') || pathOrName.includes('\\') || /\.json(\.gz)?$/.test(pathOrName)

/**
 * Resolves a short name (`automerge-paper`, `friendsforever`, `A1`) to its
 * file inside `tracesDir`, or a path (anything with a slash or ending in
 * `.json` / `.json.gz`) against the working directory. Throws an Error
 * listing the places tried when nothing matches.
 */
export const resolveTracePath = async (
  pathOrName: string,
  tracesDir: string = DEFAULT_TRACES_DIR,
): Promise<string> => {
  if (looksLikePath(pathOrName)) {
    const path = isAbsolute(pathOrName) ? pathOrName : resolve(pathOrName)
    if (await exists(path)) return path
    throw new Error(`trace file ${path} does not exist`)
  }
  const candidates = [
    join(tracesDir, 'sequential', `${pathOrName}.json.gz`),
    join(tracesDir, 'concurrent', `${pathOrName}.json`),
    join(tracesDir, 'concurrent', `${pathOrName}.json.gz`),
  ]
  for (const candidate of candidates) {
    if (await exists(candidate)) return candidate
  }
  throw new Error(`no trace named ${JSON.stringify(pathOrName)}: tried ${candidates.join(', ')}`)
}

/** The trace name a file stands for: its base name without `.json` / `.json.gz`. */
const traceNameOf = (path: string): string => basename(path).replace(/\.json(\.gz)?$/, '')

const readJson = async (path: string): Promise<unknown> => {
  const raw = await readFile(path)
  const bytes = path.endsWith('.gz') ? await gunzipAsync(raw) : raw
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown
  } catch (err) {
    throw new Error(`invalid trace ${path}: not JSON`, { cause: err })
  }
}

/** Reads the text of the root Y.Text `text` of a V2-encoded Yjs document file. */
export const readYjsDocumentText = async (path: string): Promise<string> => {
  const doc = new Y.Doc()
  try {
    Y.applyUpdateV2(doc, await readFile(path))
    return doc.getText('text').toString()
  } catch (err) {
    throw new Error(`cannot read Yjs document ${path}`, { cause: err })
  } finally {
    doc.destroy()
  }
}

/** Finds a check file next to the trace first (its folder's parent), then in `tracesDir`. */
const findCheckFile = async (
  tracePath: string,
  relative: string,
  tracesDir: string,
): Promise<string> => {
  const candidates = [join(dirname(dirname(tracePath)), relative), join(tracesDir, relative)]
  for (const candidate of candidates) {
    if (await exists(candidate)) return candidate
  }
  throw new Error(`trace ${tracePath} needs its Yjs check file: tried ${candidates.join(', ')}`)
}

/**
 * Loads a sequential (`.json.gz`) or concurrent (`.json` or `.json.gz`)
 * trace by short name or path, validated and reduced to the fields replays
 * use. For A2, `expectedText` is read from `yjs-binary/A2.yjs`; for every
 * other trace it equals `endContent`. Throws an Error naming the file when
 * it is missing, not JSON, or not a trace.
 */
export const loadTrace = async (
  pathOrName: string,
  options: LoadTraceOptions = {},
): Promise<Trace> => {
  const tracesDir = options.tracesDir ?? DEFAULT_TRACES_DIR
  const path = await resolveTracePath(pathOrName, tracesDir)
  const name = traceNameOf(path)
  const trace = parseTrace(await readJson(path), name, path)

  const checkFile = YJS_CHECK_FILES[name]
  if (checkFile === undefined) return trace
  const expectedText = await readYjsDocumentText(await findCheckFile(path, checkFile, tracesDir))
  return { ...trace, expectedText }
}
