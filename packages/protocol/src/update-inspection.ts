/**
 * Structural validation of a Yjs V1 update before Yjs sees it.
 *
 * Yjs decodes updates trusting their length fields: a crafted count can make
 * it allocate or loop far beyond the message's size, and its merge functions
 * can spin on huge run lengths. This walker reads the V1 format the way
 * `readClientsStructRefs` and `readDeleteSet` do, but bounds every count by
 * the bytes left, every clock by `MAX_CLOCK`, nesting by `MAX_ANY_DEPTH`, and
 * refuses content Quire never uses (subdocuments). It only validates; the
 * bytes that pass are then applied by Yjs itself.
 */
import { BoundedReader, DecodeError } from './bounded-reader.js'
import { isJsonDepthWithin, MAX_JSON_DEPTH } from './json-depth.js'

/**
 * Highest clock (and clock + length) accepted for any client: 2^40. Real
 * documents stay many orders of magnitude below; the bound keeps arithmetic
 * exact and stops "length 2^50" structs.
 */
export const MAX_CLOCK = 2 ** 40

/** Deepest nesting of `ContentAny` values accepted. */
export const MAX_ANY_DEPTH = 32

/** What a valid update contains, for budgets and logs. */
export interface UpdateSummary {
  readonly clients: number
  readonly structs: number
  readonly deleteRanges: number
}

/** Result of inspecting an update: a summary, or why it was refused. */
export type UpdateInspection =
  | { readonly ok: true; readonly summary: UpdateSummary }
  | { readonly ok: false; readonly reason: string }

// Bits of a struct's info byte (yjs: binary.BIT8, BIT7, BIT6, BITS5).
const HAS_ORIGIN = 0x80
const HAS_RIGHT_ORIGIN = 0x40
const HAS_PARENT_SUB = 0x20
const CONTENT_REF = 0x1f

/** Content references of the V1 format (yjs `contentRefs`). */
const ContentRef = {
  GC: 0,
  Deleted: 1,
  Json: 2,
  Binary: 3,
  String: 4,
  Embed: 5,
  Format: 6,
  Type: 7,
  Any: 8,
  Doc: 9,
  Skip: 10,
} as const

// Type references (yjs `typeRefs`): XmlElement and XmlHook carry a name.
const TYPE_REF_XML_ELEMENT = 3
const TYPE_REF_XML_HOOK = 5
const MAX_TYPE_REF = 6

/**
 * Validates `update` as a Yjs V1 update (the encoding y-websocket sends).
 * Never throws; never allocates more than a small multiple of the input.
 */
export const inspectUpdateV1 = (update: Uint8Array): UpdateInspection => {
  const reader = new BoundedReader(update)
  try {
    const structs = readStructSection(reader)
    const deleteRanges = readDeleteSection(reader)
    reader.expectEnd('update')
    return { ok: true, summary: { clients: structs.clients, structs: structs.count, deleteRanges } }
  } catch (err) {
    if (err instanceof DecodeError) return { ok: false, reason: `invalid update: ${err.message}` }
    throw err
  }
}

const readStructSection = (reader: BoundedReader): { clients: number; count: number } => {
  const clients = reader.readCount(3)
  let count = 0
  for (let c = 0; c < clients; c++) {
    const structs = reader.readCount(1)
    const client = reader.readVarUint()
    let clock = checkClock(reader.readVarUint())
    for (let s = 0; s < structs; s++) {
      clock = checkClock(clock + readStruct(reader, client, clock))
    }
    count += structs
  }
  return { clients, count }
}

/**
 * Reads one struct of `client` starting at `clock` and returns its length in
 * clock units. References to the same client must point to earlier clocks:
 * a client only ever refers to what it made before, and Yjs does not check
 * this itself (it would throw halfway through integrating the update).
 */
const readStruct = (reader: BoundedReader, client: number, clock: number): number => {
  const info = reader.readUint8()
  const ref = info & CONTENT_REF
  if (ref === ContentRef.GC) return checkLength(reader.readVarUint())
  if (ref === ContentRef.Skip) return checkLength(reader.readVarUint())

  if ((info & HAS_ORIGIN) !== 0) readId(reader, client, clock)
  if ((info & HAS_RIGHT_ORIGIN) !== 0) readId(reader, client, clock)
  if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
    // No origins: the parent is written out, either a root type's name or
    // the id of the item holding the type.
    const isRootParent = reader.readVarUint() === 1
    if (isRootParent) reader.readVarString()
    else readId(reader, client, clock)
    if ((info & HAS_PARENT_SUB) !== 0) reader.readVarString()
  }
  return readContent(reader, ref)
}

const readContent = (reader: BoundedReader, ref: number): number => {
  switch (ref) {
    case ContentRef.Deleted:
      return checkLength(reader.readVarUint())
    case ContentRef.Json: {
      const length = reader.readCount(1)
      for (let i = 0; i < length; i++) {
        const json = reader.readVarString()
        if (json !== 'undefined') parseJson(json)
      }
      return length
    }
    case ContentRef.Binary:
      reader.skip(reader.readVarUint())
      return 1
    case ContentRef.String: {
      const text = reader.readVarString()
      if (text.length === 0) throw new DecodeError('empty string content')
      return text.length
    }
    case ContentRef.Embed:
      parseJson(reader.readVarString())
      return 1
    case ContentRef.Format:
      reader.readVarString()
      parseJson(reader.readVarString())
      return 1
    case ContentRef.Type: {
      const typeRef = reader.readVarUint()
      if (typeRef > MAX_TYPE_REF) throw new DecodeError(`unknown type reference ${typeRef}`)
      if (typeRef === TYPE_REF_XML_ELEMENT || typeRef === TYPE_REF_XML_HOOK) reader.readVarString()
      return 1
    }
    case ContentRef.Any: {
      const length = reader.readCount(1)
      for (let i = 0; i < length; i++) readAny(reader, 0)
      return length
    }
    case ContentRef.Doc:
      throw new DecodeError('subdocuments are not supported')
    default:
      throw new DecodeError(`unknown content reference ${ref}`)
  }
}

/** Walks one lib0 `writeAny` value without building it. */
const readAny = (reader: BoundedReader, depth: number): void => {
  if (depth > MAX_ANY_DEPTH) throw new DecodeError('value nested too deeply')
  const tag = reader.readUint8()
  switch (tag) {
    case 127: // undefined
    case 126: // null
    case 121: // false
    case 120: // true
      return
    case 125:
      reader.readVarInt()
      return
    case 124:
      reader.skip(4)
      return
    case 123:
    case 122:
      reader.skip(8)
      return
    case 119:
      reader.readVarString()
      return
    case 118: {
      const entries = reader.readCount(2)
      for (let i = 0; i < entries; i++) {
        reader.readVarString()
        readAny(reader, depth + 1)
      }
      return
    }
    case 117: {
      const items = reader.readCount(1)
      for (let i = 0; i < items; i++) readAny(reader, depth + 1)
      return
    }
    case 116:
      reader.skip(reader.readVarUint())
      return
    default:
      throw new DecodeError(`unknown value tag ${tag}`)
  }
}

const readDeleteSection = (reader: BoundedReader): number => {
  const clients = reader.readCount(2)
  let ranges = 0
  for (let c = 0; c < clients; c++) {
    reader.readVarUint() // client id
    const deletes = reader.readCount(2)
    for (let d = 0; d < deletes; d++) {
      const clock = checkClock(reader.readVarUint())
      checkClock(clock + checkLength(reader.readVarUint()))
    }
    ranges += deletes
  }
  return ranges
}

/** Reads an id referenced by a struct of `client` at `clock`. */
const readId = (reader: BoundedReader, client: number, clock: number): void => {
  const idClient = reader.readVarUint()
  const idClock = checkClock(reader.readVarUint())
  if (idClient === client && idClock >= clock) {
    throw new DecodeError(
      `struct ${client}:${clock} refers to its own client's future (${idClock})`,
    )
  }
}

const checkClock = (clock: number): number => {
  if (clock > MAX_CLOCK) throw new DecodeError(`clock ${clock} over the limit of ${MAX_CLOCK}`)
  return clock
}

const checkLength = (length: number): number => {
  if (length === 0) throw new DecodeError('zero-length struct')
  return checkClock(length)
}

const parseJson = (text: string): void => {
  if (!isJsonDepthWithin(text))
    throw new DecodeError(`JSON content nested deeper than ${MAX_JSON_DEPTH}`)
  try {
    JSON.parse(text)
  } catch {
    throw new DecodeError('invalid JSON content')
  }
}
