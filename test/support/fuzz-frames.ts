/**
 * fast-check arbitraries for fuzzing the sync endpoint: fully random frames,
 * real y-websocket messages with mutations, valid-but-hostile Yjs updates
 * and awareness states, and sequences of them for one socket. Everything
 * they make targets root types other than `text`, so the `text` root stays
 * the well-behaved client's alone.
 */
import {
  encodeAwarenessMessage,
  encodeAwarenessUpdate,
  encodeKeepAlive,
  encodeQueryAwareness,
  encodeSaved,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeSyncUpdate,
  MAX_CLOCK,
} from '@quire/protocol'
import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { captureUpdates } from './frames.js'

/**
 * One WebSocket message a fuzz case sends, and how it was made. A text
 * message carries its payload as raw bytes, which need not be UTF-8. With
 * `fragmentAt` the message goes out in fragments cut at those offsets, with
 * a ping between them.
 */
export interface FuzzFrame {
  readonly kind: 'binary' | 'text'
  readonly label: string
  readonly bytes: Uint8Array
  readonly fragmentAt?: readonly number[]
}

/** The frames one fresh socket sends, in order; prints as labels and hex. */
export interface FuzzCase {
  readonly frames: readonly FuzzFrame[]
  /** Sent to a document nobody holds open, so the frames arrive while it loads (CONN-3). */
  readonly isFreshDocument: boolean
  [fc.toStringMethod](): string
}

/** Client id of the Y.Doc the seed messages come from. */
export const SEED_CLIENT = 4242

/**
 * Every Yjs client id a hostile update uses. The well-behaved client's id
 * must not be among them: an item whose origin is one of its items, or a
 * deletion of its range, would legally change its text.
 */
export const HOSTILE_CLIENTS: readonly number[] = [
  0,
  1,
  2,
  3,
  SEED_CLIENT,
  2 ** 32 - 1,
  2 ** 53 - 1,
]

const MAX_HEX_BYTES = 2048

/** A frame as hex (cut after `MAX_HEX_BYTES`), for failure reports. */
export const describeFrame = (frame: FuzzFrame): string => {
  const { bytes } = frame
  const hex = Buffer.from(bytes.subarray(0, MAX_HEX_BYTES)).toString('hex')
  const cut = bytes.length > MAX_HEX_BYTES ? `… (${bytes.length} bytes)` : ''
  const fragments = frame.fragmentAt === undefined ? '' : ` in fragments at ${frame.fragmentAt}`
  return `${frame.kind} ${frame.label}${fragments}: ${hex}${cut}`
}

const toCase = (frames: readonly FuzzFrame[], isFreshDocument: boolean): FuzzCase => ({
  frames,
  isFreshDocument,
  [fc.toStringMethod]: () =>
    `${isFreshDocument ? 'fresh document ' : ''}[\n  ${frames.map(describeFrame).join(',\n  ')}\n]`,
})

const binary = (label: string, bytes: Uint8Array): FuzzFrame => ({ kind: 'binary', label, bytes })

/** A seed message and where its first length field starts, if it has one. */
interface SeedMessage {
  readonly name: string
  readonly bytes: Uint8Array
  readonly lengthAt: number | null
}

/** Real messages, as y-websocket and a Y.Doc make them. */
const buildSeedMessages = (): readonly SeedMessage[] => {
  const doc = new Y.Doc()
  doc.clientID = SEED_CLIENT
  const updates = captureUpdates(doc, () => {
    const text = doc.getText('fuzz')
    text.insert(0, 'hello fuzz 😀')
    text.format(0, 5, { bold: true })
    text.insertEmbed(5, { image: 'x.png' })
    text.delete(1, 2)
    const map = doc.getMap('fuzzmap')
    map.set('nested', { a: [1, 2, { b: null }], c: 'd' })
    map.set('bytes', new Uint8Array([1, 2, 3]))
    const array = new Y.Array<unknown>()
    map.set('array', array)
    array.push([1, 'two', true, new Uint8Array([9])])
    map.delete('nested')
    const element = new Y.XmlElement('p')
    doc.getXmlFragment('fuzzxml').insert(0, [element])
    element.insert(0, [new Y.XmlText('para')])
    element.setAttribute('class', 'x')
  })
  const awareness = encodeAwarenessUpdate([
    { clientId: 900, clock: 1, state: { user: { name: 'fuzz', color: '#f00' }, cursor: null } },
  ])
  return [
    { name: 'step1', bytes: encodeSyncStep1(Y.encodeStateVector(doc)), lengthAt: 2 },
    { name: 'step1-empty', bytes: encodeSyncStep1(new Uint8Array([0])), lengthAt: 2 },
    { name: 'step2', bytes: encodeSyncStep2(Y.encodeStateAsUpdate(doc)), lengthAt: 2 },
    ...updates.map((update, i) => ({
      name: `update${i}`,
      bytes: encodeSyncUpdate(update),
      lengthAt: 2,
    })),
    { name: 'awareness', bytes: encodeAwarenessMessage(awareness), lengthAt: 1 },
    { name: 'keep-alive', bytes: encodeKeepAlive(), lengthAt: 1 },
    { name: 'query-awareness', bytes: encodeQueryAwareness(), lengthAt: null },
    { name: 'quire-saved', bytes: encodeSaved(3), lengthAt: null },
  ]
}

const SEEDS = buildSeedMessages()

const varUint = (value: number): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, value)
  return encoding.toUint8Array(encoder)
}

/** Bytes a varint starting at `at` takes (to its end if it never ends). */
const varUintSize = (bytes: Uint8Array, at: number): number => {
  let end = at
  while (end < bytes.length && (bytes[end] as number) >= 0x80) end++
  return Math.min(end + 1, bytes.length) - at
}

const concat = (...parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** A change to a seed's bytes, by name. */
interface Mutation {
  readonly name: string
  apply(bytes: Uint8Array, seed: SeedMessage): Uint8Array
}

const HUGE_LENGTHS = [0, 1, 127, 128, 2 ** 31 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1]

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]) => ({
    name: `set[${at}]=${value}`,
    apply: (bytes: Uint8Array) => {
      if (bytes.length === 0) return bytes
      const out = bytes.slice()
      out[at % out.length] = value
      return out
    },
  })),
  fc.nat().map((keep) => ({
    name: `truncate(${keep})`,
    apply: (bytes: Uint8Array) => bytes.slice(0, keep % (bytes.length + 1)),
  })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => ({
    name: `extend(${tail.length})`,
    apply: (bytes: Uint8Array) => concat(bytes, tail),
  })),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })).map(([at, length]) => ({
    name: `duplicate(${at},${length})`,
    apply: (bytes: Uint8Array) => {
      const start = bytes.length === 0 ? 0 : at % bytes.length
      const piece = bytes.subarray(start, start + length)
      return concat(bytes.subarray(0, start + piece.length), piece, bytes.subarray(start))
    },
  })),
  fc.nat().map((at) => ({
    // A varint's last byte b becomes (b | 0x80, 0x00): the same value, not canonical.
    name: `overlong-varint(${at})`,
    apply: (bytes: Uint8Array) => {
      if (bytes.length === 0) return bytes
      const i = at % bytes.length
      const byte = bytes[i] as number
      if (byte >= 0x80) return bytes
      return concat(bytes.subarray(0, i), new Uint8Array([byte | 0x80, 0]), bytes.subarray(i + 1))
    },
  })),
  fc.constantFrom(...HUGE_LENGTHS).map((length) => ({
    name: `length=${length}`,
    apply: (bytes: Uint8Array, seed: SeedMessage) => {
      if (seed.lengthAt === null || seed.lengthAt >= bytes.length) return bytes
      const size = varUintSize(bytes, seed.lengthAt)
      return concat(
        bytes.subarray(0, seed.lengthAt),
        varUint(length),
        bytes.subarray(seed.lengthAt + size),
      )
    },
  })),
  fc.constantFrom(...HUGE_LENGTHS).map((count) => ({
    // The first count inside the payload: clients of an update, entries of a
    // state vector or of an awareness update.
    name: `inner-count=${count}`,
    apply: (bytes: Uint8Array, seed: SeedMessage) => {
      if (seed.lengthAt === null || seed.lengthAt >= bytes.length) return bytes
      const at = seed.lengthAt + varUintSize(bytes, seed.lengthAt)
      if (at >= bytes.length) return bytes
      return concat(
        bytes.subarray(0, at),
        varUint(count),
        bytes.subarray(at + varUintSize(bytes, at)),
      )
    },
  })),
  fc.oneof(fc.integer({ min: 0, max: 130 }), fc.constantFrom(2 ** 32, 2 ** 53 - 1)).map((type) => ({
    name: `type=${type}`,
    apply: (bytes: Uint8Array) => concat(varUint(type), bytes.subarray(varUintSize(bytes, 0))),
  })),
)

/** A real message with one to three mutations, or untouched. */
const mutatedSeedArb: fc.Arbitrary<FuzzFrame> = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([seed, mutations, asText]) => {
    const bytes = mutations.reduce((out, mutation) => mutation.apply(out, seed), seed.bytes)
    const label = [seed.name, ...mutations.map((mutation) => mutation.name)].join(' ')
    return { kind: asText ? 'text' : 'binary', label, bytes }
  })

const randomFrameArb: fc.Arbitrary<FuzzFrame> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => binary('random', bytes)),
  fc
    .tuple(fc.constantFrom(0, 1, 3, 100), fc.uint8Array({ maxLength: 256 }))
    .map(([type, rest]) => binary(`random after type ${type}`, concat(varUint(type), rest))),
  fc
    .tuple(fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 256 }))
    .map(([subtype, payload]) =>
      binary(
        `random payload, sync subtype ${subtype}`,
        [encodeSyncStep1, encodeSyncStep2, encodeSyncUpdate][subtype]?.(payload) ?? payload,
      ),
    ),
  fc
    .string({ unit: 'binary', maxLength: 64 })
    .map((text): FuzzFrame => ({ kind: 'text', label: 'random text', bytes: Buffer.from(text) })),
  fc
    .uint8Array({ maxLength: 64 })
    .map((bytes): FuzzFrame => ({ kind: 'text', label: 'random bytes as text', bytes })),
)

/** Nested JSON of `depth` levels: `{"d":[[...1...]]}` (the object counts). */
const nestedJson = (depth: number): string =>
  `{"d":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)}}`

/** An awareness message whose entries carry their JSON state verbatim. */
const rawAwareness = (
  entries: readonly { clientId: number; clock: number; json: string }[],
): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(encoder, entry.clientId)
    encoding.writeVarUint(encoder, entry.clock)
    encoding.writeVarString(encoder, entry.json)
  }
  return encodeAwarenessMessage(encoding.toUint8Array(encoder))
}

const awarenessStateArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(31, 32, 33, 64, 4000).map(nestedJson),
  fc.constantFrom(
    'null',
    '{}',
    '[]',
    '1',
    '"s"',
    'true',
    '{',
    '{"a":1}}',
    ']]]]]]]]{"a":1}',
    '{"__proto__":{"polluted":true}}',
    '{"s":"\\\\"}',
    `{"s":"\\"${'['.repeat(40)}"}`,
    `{"big":"${'x'.repeat(16_374)}"}`,
    `{"big":"${'x'.repeat(16_375)}"}`,
  ),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify({ value })),
  fc.string({ unit: 'binary', maxLength: 40 }),
)

/** Awareness messages with hostile states, ids (including `protectedId`) and clocks. */
const hostileAwarenessArb = (protectedId: number): fc.Arbitrary<FuzzFrame> => {
  const entryArb = fc.record({
    clientId: fc.oneof(
      fc.integer({ min: 0, max: 20 }),
      fc.constantFrom(protectedId, 2 ** 32 - 1, 2 ** 53 - 1),
    ),
    clock: fc.oneof(fc.nat(5), fc.constantFrom(2 ** 31, 2 ** 53 - 1)),
    json: awarenessStateArb,
  })
  return fc
    .array(entryArb, { maxLength: 12 })
    .map((entries) => binary(`awareness × ${entries.length}`, rawAwareness(entries)))
}

/** An id a hostile struct refers to: mostly clocks that do not exist. */
interface StructId {
  readonly client: number
  readonly clock: number
}

type Content =
  | { readonly ref: 'gc' | 'skip' | 'deleted'; readonly length: number }
  | { readonly ref: 'string'; readonly text: string }
  | { readonly ref: 'string-bytes'; readonly bytes: Uint8Array }
  | { readonly ref: 'json'; readonly values: readonly string[] }
  | { readonly ref: 'binary'; readonly bytes: Uint8Array }
  | { readonly ref: 'embed'; readonly json: string }
  | { readonly ref: 'format'; readonly key: string; readonly json: string }
  | { readonly ref: 'type'; readonly typeRef: number; readonly name: string }
  | { readonly ref: 'any'; readonly values: readonly unknown[] }
  | { readonly ref: 'doc'; readonly guid: string }

interface Struct {
  readonly origin: StructId | null
  readonly rightOrigin: StructId | null
  readonly parent: { readonly root: string } | { readonly id: StructId }
  readonly parentSub: string | null
  readonly content: Content
}

interface HostileUpdate {
  readonly clients: readonly {
    readonly client: number
    readonly clock: number
    readonly structs: readonly Struct[]
  }[]
  readonly deletes: readonly {
    readonly client: number
    readonly ranges: readonly (readonly [number, number])[]
  }[]
}

const CONTENT_REFS = {
  gc: 0,
  deleted: 1,
  json: 2,
  binary: 3,
  string: 4,
  'string-bytes': 4,
  embed: 5,
  format: 6,
  type: 7,
  any: 8,
  doc: 9,
  skip: 10,
} as const

const writeId = (encoder: encoding.Encoder, id: StructId): void => {
  encoding.writeVarUint(encoder, id.client)
  encoding.writeVarUint(encoder, id.clock)
}

const writeContent = (encoder: encoding.Encoder, content: Content): void => {
  switch (content.ref) {
    case 'gc':
    case 'skip':
    case 'deleted':
      return encoding.writeVarUint(encoder, content.length)
    case 'string':
      return encoding.writeVarString(encoder, content.text)
    case 'string-bytes':
    case 'binary':
      return encoding.writeVarUint8Array(encoder, content.bytes)
    case 'json':
      encoding.writeVarUint(encoder, content.values.length)
      for (const value of content.values) encoding.writeVarString(encoder, value)
      return
    case 'embed':
      return encoding.writeVarString(encoder, content.json)
    case 'format':
      encoding.writeVarString(encoder, content.key)
      return encoding.writeVarString(encoder, content.json)
    case 'type':
      encoding.writeVarUint(encoder, content.typeRef)
      if (content.typeRef === 3 || content.typeRef === 5)
        encoding.writeVarString(encoder, content.name)
      return
    case 'any':
      encoding.writeVarUint(encoder, content.values.length)
      for (const value of content.values) encoding.writeAny(encoder, value as never)
      return
    case 'doc':
      encoding.writeVarString(encoder, content.guid)
      return encoding.writeAny(encoder, {})
    default: {
      const unreachable: never = content
      throw new Error(`unknown content ${JSON.stringify(unreachable)}`)
    }
  }
}

const writeStruct = (encoder: encoding.Encoder, struct: Struct): void => {
  const ref = CONTENT_REFS[struct.content.ref]
  if (ref === CONTENT_REFS.gc || ref === CONTENT_REFS.skip) {
    encoding.writeUint8(encoder, ref)
    writeContent(encoder, struct.content)
    return
  }
  const hasParentInfo = struct.origin === null && struct.rightOrigin === null
  const info =
    ref |
    (struct.origin === null ? 0 : 0x80) |
    (struct.rightOrigin === null ? 0 : 0x40) |
    (hasParentInfo && struct.parentSub !== null ? 0x20 : 0)
  encoding.writeUint8(encoder, info)
  if (struct.origin !== null) writeId(encoder, struct.origin)
  if (struct.rightOrigin !== null) writeId(encoder, struct.rightOrigin)
  if (hasParentInfo) {
    if ('root' in struct.parent) {
      encoding.writeVarUint(encoder, 1)
      encoding.writeVarString(encoder, struct.parent.root)
    } else {
      encoding.writeVarUint(encoder, 0)
      writeId(encoder, struct.parent.id)
    }
    if (struct.parentSub !== null) encoding.writeVarString(encoder, struct.parentSub)
  }
  writeContent(encoder, struct.content)
}

/** Encodes a hostile update in the Yjs V1 format, struct by struct. */
export const encodeHostileUpdate = (update: HostileUpdate): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, update.clients.length)
  for (const { client, clock, structs } of update.clients) {
    encoding.writeVarUint(encoder, structs.length)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
    for (const struct of structs) writeStruct(encoder, struct)
  }
  encoding.writeVarUint(encoder, update.deletes.length)
  for (const { client, ranges } of update.deletes) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const [clock, length] of ranges) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, length)
    }
  }
  return encoding.toUint8Array(encoder)
}

const clientArb = fc.constantFrom(...HOSTILE_CLIENTS)
// Mostly clocks that could exist, so that many hostile updates pass
// inspection and reach Yjs; sometimes the extremes around `MAX_CLOCK`.
const clockArb = fc.oneof(
  { arbitrary: fc.nat(20), weight: 6 },
  { arbitrary: fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 39, MAX_CLOCK - 1), weight: 2 },
  { arbitrary: fc.constantFrom(MAX_CLOCK, MAX_CLOCK + 1), weight: 1 },
)
const lengthArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 10 }), weight: 6 },
  { arbitrary: fc.constantFrom(2 ** 31, 2 ** 32, MAX_CLOCK - 1, MAX_CLOCK), weight: 2 },
  { arbitrary: fc.constant(0), weight: 1 },
)
const idArb: fc.Arbitrary<StructId> = fc.record({ client: clientArb, clock: clockArb })

/** Nested arrays `depth` deep around a number. */
const nestedArray = (depth: number): unknown =>
  Array.from({ length: depth }).reduce<unknown>((inner) => [inner], 1)

const jsonTextArb = fc.oneof(
  { arbitrary: fc.constantFrom('undefined', '1', 'null', '{"a":[1]}', '"\\ud800"'), weight: 4 },
  fc.constantFrom('{bad', ...[31, 32, 33, 200].map(nestedJson)),
)

/** Mostly content Yjs accepts; sometimes what inspection must refuse. */
const contentArb: fc.Arbitrary<Content> = fc.oneof(
  fc.record({ ref: fc.constantFrom('gc', 'skip', 'deleted'), length: lengthArb }),
  {
    arbitrary: fc.record({
      ref: fc.constant('string'),
      text: fc.oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
        // Large enough that a parked one passes the node's cap (DOC-4).
        fc.constantFrom(100, 20_000).map((length) => 'p'.repeat(length)),
        fc.constant(''),
      ),
    }),
    weight: 4,
  },
  fc.record({ ref: fc.constant('string-bytes'), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ ref: fc.constant('json'), values: fc.array(jsonTextArb, { maxLength: 3 }) }),
  fc.record({ ref: fc.constant('binary'), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ ref: fc.constant('embed'), json: jsonTextArb }),
  fc.record({ ref: fc.constant('format'), key: fc.string({ maxLength: 4 }), json: jsonTextArb }),
  {
    arbitrary: fc.record({
      ref: fc.constant('type'),
      typeRef: fc.integer({ min: 0, max: 7 }),
      name: fc.string({ maxLength: 4 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      ref: fc.constant('any'),
      values: fc.array(
        fc.oneof(
          { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
          fc.constantFrom(31, 32, 33, 40).map(nestedArray),
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          fc.uint8Array({ maxLength: 8 }),
          fc.constant(undefined),
        ),
        { maxLength: 4 },
      ),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ ref: fc.constant('doc'), guid: fc.string({ maxLength: 8 }) }),
    weight: 1,
  },
)

const structArb: fc.Arbitrary<Struct> = fc.record({
  origin: fc.option(idArb, { nil: null, freq: 2 }),
  rightOrigin: fc.option(idArb, { nil: null, freq: 2 }),
  parent: fc.oneof(
    fc.record({ root: fc.constantFrom('fuzz', 'fuzzmap', 'fuzzxml', '', 'ü', '__proto__') }),
    fc.record({ id: idArb }),
  ),
  parentSub: fc.option(fc.constantFrom('key', '', '__proto__'), { nil: null }),
  content: contentArb,
})

const hostileUpdateArb: fc.Arbitrary<HostileUpdate> = fc.record({
  clients: fc.array(
    fc.record({
      client: clientArb,
      clock: clockArb,
      structs: fc.array(structArb, { minLength: 1, maxLength: 4 }),
    }),
    { maxLength: 3 },
  ),
  deletes: fc.array(
    fc.record({
      client: clientArb,
      ranges: fc.array(fc.tuple(clockArb, lengthArb), { minLength: 1, maxLength: 3 }),
    }),
    { maxLength: 3 },
  ),
})

const hostileUpdateFrameArb: fc.Arbitrary<FuzzFrame> = fc
  .tuple(hostileUpdateArb, fc.boolean())
  .map(([update, asStep2]) => {
    const bytes = encodeHostileUpdate(update)
    const clients = update.clients.map((entry) => `${entry.client}@${entry.clock}`).join(',')
    const label = `hostile ${asStep2 ? 'step2' : 'update'} structs[${clients}] deletes×${update.deletes.length}`
    return binary(label, asStep2 ? encodeSyncStep2(bytes) : encodeSyncUpdate(bytes))
  })

/**
 * Real updates of a fresh client, sent in a shuffled order: some wait for
 * their dependencies (parked), some integrate what waited.
 */
const reorderedUpdatesArb: fc.Arbitrary<readonly FuzzFrame[]> = fc
  .tuple(fc.integer({ min: 10_000, max: 10_999 }), fc.integer({ min: 2, max: 4 }))
  .chain(([client, count]) => {
    const doc = new Y.Doc()
    doc.clientID = client
    const text = doc.getText('fuzzseq')
    const updates = captureUpdates(doc, () => {
      for (let i = 0; i < count; i++) text.insert(i % 2 === 0 ? 0 : text.length, `s${i}`)
      text.delete(0, 1)
    })
    const indexed = updates.map((update, i) => ({ update, i }))
    return fc
      .shuffledSubarray(indexed, { minLength: 1, maxLength: indexed.length })
      .map((picked) =>
        picked.map(({ update, i }) =>
          binary(`client ${client} update ${i}`, encodeSyncUpdate(update)),
        ),
      )
  })

/** A frame over `maxMessageBytes`: refused (1009) before it is read. */
const oversizedArb = (maxMessageBytes: number): fc.Arbitrary<FuzzFrame> =>
  fc.tuple(fc.integer({ min: 1, max: 4096 }), fc.constantFrom(0, 1)).map(([extra, type]) => {
    const bytes = new Uint8Array(maxMessageBytes + extra)
    bytes[0] = type
    return binary(`oversized ${bytes.length} bytes`, bytes)
  })

/** What the arbitraries need to know about the node and the client under test. */
export interface FuzzCaseOptions {
  /** The well-behaved client's awareness id: hostile entries try to take it over. */
  readonly protectedAwarenessId: number
  /** The node's `--max-message-bytes`. */
  readonly maxMessageBytes: number
}

/** `frame`, sometimes cut into fragments. */
const maybeFragmented = (frameArb: fc.Arbitrary<FuzzFrame>): fc.Arbitrary<FuzzFrame> =>
  fc
    .tuple(
      frameArb,
      fc.option(fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 3 }), { freq: 8 }),
    )
    .map(([frame, cuts]) => {
      if (cuts === null || frame.bytes.length < 2) return frame
      const length = frame.bytes.length
      const fragmentAt = [...new Set(cuts.map((cut) => 1 + (cut % (length - 1))))].sort(
        (a, b) => a - b,
      )
      return { ...frame, fragmentAt }
    })

/** Sequences of one to four frames for one socket, from every family. */
export const fuzzCaseArb = (options: FuzzCaseOptions): fc.Arbitrary<FuzzCase> => {
  const frameArb = maybeFragmented(
    fc.oneof(
      { arbitrary: randomFrameArb, weight: 3 },
      { arbitrary: mutatedSeedArb, weight: 5 },
      { arbitrary: hostileUpdateFrameArb, weight: 4 },
      { arbitrary: hostileAwarenessArb(options.protectedAwarenessId), weight: 2 },
      { arbitrary: oversizedArb(options.maxMessageBytes), weight: 1 },
    ),
  )
  const framesArb = fc.oneof(
    { arbitrary: fc.array(frameArb, { minLength: 1, maxLength: 4 }), weight: 5 },
    { arbitrary: reorderedUpdatesArb, weight: 1 },
    {
      arbitrary: fc
        .tuple(reorderedUpdatesArb, fc.array(frameArb, { maxLength: 2 }))
        .map(([updates, more]) => [...updates, ...more]),
      weight: 1,
    },
  )
  // One case in ten goes to a document that is still loading.
  const isFreshArb = fc.oneof(
    { arbitrary: fc.constant(false), weight: 9 },
    { arbitrary: fc.constant(true), weight: 1 },
  )
  return fc.tuple(framesArb, isFreshArb).map(([frames, isFresh]) => toCase(frames, isFresh))
}
