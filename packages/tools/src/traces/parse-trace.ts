/**
 * Shape validation of decoded trace JSON: turns `unknown` into a typed
 * `Trace`, keeping only the fields replays use, or throws an Error that names
 * the file and the offending path and value.
 */
import type { Patch } from './patches.js'

/** One transaction of a sequential trace: patches applied in order. */
export interface SequentialTxn {
  readonly patches: readonly Patch[]
}

/**
 * One transaction of a concurrent trace. `parents` are indexes of earlier
 * transactions (always smaller than this one's); the patches apply to the
 * merge of their states (`[]` means the empty document).
 */
export interface ConcurrentTxn {
  readonly parents: readonly number[]
  readonly agent: number
  readonly patches: readonly Patch[]
}

/** A single-writer editing history (`sequential/*.json.gz`). */
export interface SequentialTrace {
  readonly kind: 'sequential'
  /** File name without `.json` / `.json.gz`, e.g. `automerge-paper`. */
  readonly name: string
  /** The text after every patch, as published. */
  readonly endContent: string
  /** The text a correct Yjs replay must produce; equals `endContent`. */
  readonly expectedText: string
  readonly txns: readonly SequentialTxn[]
}

/** A multi-writer editing history with a parents DAG (`concurrent/*`). */
export interface ConcurrentTrace {
  readonly kind: 'concurrent'
  /** File name without `.json` / `.json.gz`, e.g. `friendsforever`. */
  readonly name: string
  /** The final text as published (diamond-types' merge order). */
  readonly endContent: string
  /**
   * The text a Yjs replay with clientID = agent + 1 must produce. Equals
   * `endContent`, except for A2, whose concurrent same-position inserts Yjs
   * orders differently: there it is the text of `yjs-binary/A2.yjs`.
   */
  readonly expectedText: string
  /** Agents are the integers `0 .. numAgents - 1`. */
  readonly numAgents: number
  readonly txns: readonly ConcurrentTxn[]
}

/** Either kind of trace, told apart by `kind`. */
export type Trace = SequentialTrace | ConcurrentTrace

type JsonObject = Readonly<Record<string, unknown>>

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

// Array.isArray narrows to any[]; this keeps the elements unknown.
const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value)

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

const show = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text
}

/** Builds the Error thrown for bad input, naming the file and JSON path. */
const invalid = (file: string, path: string, expected: string, value: unknown): Error =>
  new Error(`invalid trace ${file}: ${path} must be ${expected}, got ${show(value)}`)

const parsePatches = (file: string, path: string, value: unknown): Patch[] => {
  if (!isArray(value)) throw invalid(file, path, 'an array of patches', value)
  return value.map((patch: unknown, index): Patch => {
    const at = `${path}[${index}]`
    if (!isArray(patch) || patch.length !== 3) {
      throw invalid(file, at, 'a [pos, delCount, insText] triple', patch)
    }
    const [pos, del, ins] = patch
    if (!isCount(pos)) throw invalid(file, `${at}[0]`, 'a non-negative integer', pos)
    if (!isCount(del)) throw invalid(file, `${at}[1]`, 'a non-negative integer', del)
    if (typeof ins !== 'string') throw invalid(file, `${at}[2]`, 'a string', ins)
    return [pos, del, ins]
  })
}

const parseParents = (file: string, path: string, value: unknown, index: number): number[] => {
  if (!isArray(value)) throw invalid(file, path, 'an array of txn indexes', value)
  const parents: number[] = []
  for (const parent of value) {
    // File order is a causal order: the plans and the prefix option rely on it.
    if (!isCount(parent) || parent >= index || parents.includes(parent)) {
      throw invalid(file, path, `distinct indexes of earlier txns (< ${index})`, value)
    }
    parents.push(parent)
  }
  return parents
}

const parseTxns = <T>(
  file: string,
  value: unknown,
  parseTxn: (txn: JsonObject, path: string, index: number) => T,
): T[] => {
  if (!isArray(value)) throw invalid(file, 'txns', 'an array', value)
  return value.map((txn: unknown, index): T => {
    const path = `txns[${index}]`
    if (!isObject(txn)) throw invalid(file, path, 'an object', txn)
    return parseTxn(txn, path, index)
  })
}

const parseSequential = (file: string, name: string, root: JsonObject): SequentialTrace => {
  // Every published sequential trace starts empty; a non-empty start would
  // need an initial update the plans do not make.
  if (root.startContent !== undefined && root.startContent !== '') {
    throw invalid(file, 'startContent', 'empty or absent', root.startContent)
  }
  const endContent = root.endContent
  if (typeof endContent !== 'string') throw invalid(file, 'endContent', 'a string', endContent)
  const txns = parseTxns(file, root.txns, (txn, path): SequentialTxn => ({
    patches: parsePatches(file, `${path}.patches`, txn.patches),
  }))
  return { kind: 'sequential', name, endContent, expectedText: endContent, txns }
}

const parseConcurrent = (file: string, name: string, root: JsonObject): ConcurrentTrace => {
  const { endContent, numAgents } = root
  if (typeof endContent !== 'string') throw invalid(file, 'endContent', 'a string', endContent)
  if (!isCount(numAgents) || numAgents === 0) {
    throw invalid(file, 'numAgents', 'a positive integer', numAgents)
  }
  const txns = parseTxns(file, root.txns, (txn, path, index): ConcurrentTxn => {
    const agent = txn.agent
    if (!isCount(agent) || agent >= numAgents) {
      throw invalid(file, `${path}.agent`, `an integer in [0, ${numAgents})`, agent)
    }
    return {
      parents: parseParents(file, `${path}.parents`, txn.parents, index),
      agent,
      patches: parsePatches(file, `${path}.patches`, txn.patches),
    }
  })
  return { kind: 'concurrent', name, endContent, expectedText: endContent, numAgents, txns }
}

/**
 * Validates decoded trace JSON. A root with `kind: 'concurrent'` is read as a
 * concurrent trace, a root without `kind` as a sequential one. `file` only
 * labels errors; `name` becomes the trace's name. `expectedText` is set to
 * `endContent`; the loader overrides it where Yjs has its own check value.
 * Throws an Error naming `file`, the JSON path and the bad value.
 */
export const parseTrace = (json: unknown, name: string, file: string): Trace => {
  if (!isObject(json)) throw invalid(file, 'the root', 'an object', json)
  if (json.kind === 'concurrent') return parseConcurrent(file, name, json)
  if (json.kind === undefined) return parseSequential(file, name, json)
  throw invalid(file, 'kind', "'concurrent' or absent", json.kind)
}
