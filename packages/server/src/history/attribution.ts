/**
 * Who wrote what, and what changed between two versions: a stretch of the
 * update log is replayed into a document that keeps deleted content
 * (`gc: false`), each Yjs struct id range is stamped with the logged update
 * that inserted it and the one that deleted it, and the rich text is then
 * walked into ProseMirror JSON whose text carries a `change` mark: kept,
 * added or deleted, with author and time.
 *
 * Yjs ids make this exact: every struct is identified by (client, clock),
 * and an update adds, per client, the clocks between the state vectors
 * before and after its transaction; its transaction's delete set names
 * what it deleted (only what was not deleted before).
 */
import type { JSONContent } from '@tiptap/core'
import { RICH_TEXT_FRAGMENT } from '@quire/schema'
import * as Y from 'yjs'
import { changesSchema, checkFragmentDepth, toDocumentNode } from '../content/index.js'
import type { HistoryWindow } from '../store/index.js'

/** A mark on a text node of `DocumentChanges.doc`. */
export interface ProseMirrorMark {
  readonly type: string
  /** For `change`: `ChangeAttrs`. */
  readonly attrs?: object
}

/** A ProseMirror node as JSON (`Node.toJSON()`). */
export interface ProseMirrorJson {
  readonly type: string
  readonly attrs?: Readonly<Record<string, unknown>>
  readonly content?: readonly ProseMirrorJson[]
  readonly text?: string
  readonly marks?: readonly ProseMirrorMark[]
}

/** How a run of text compares between the two versions. */
export type ChangeKind = 'kept' | 'added' | 'deleted'

/** Attributes of the `change` mark every text node of `DocumentChanges.doc` carries. */
export interface ChangeAttrs {
  readonly kind: ChangeKind
  /** Who wrote the run; null when written before the replayed stretch or by the server. */
  readonly author: string | null
  /** When the latest of its characters was received (ISO 8601); null as for `author`. */
  readonly at: string | null
  /** For deleted runs: who deleted them, and when. */
  readonly deletedBy: string | null
  readonly deletedAt: string | null
}

/** A person named in a `DocumentChanges`. */
export interface ChangeAuthor {
  readonly id: string
  /** Null when the account is gone. */
  readonly name: string | null
}

/** The attributed content of one version, and its changes since an earlier one. */
export interface DocumentChanges {
  readonly seq: number
  /** The earlier version compared against; null for attribution alone. */
  readonly since: number | null
  /** Text written after this seq is attributed; older text has a null author. */
  readonly attributedFrom: number
  /** Everyone named by a `change` mark, by name. */
  readonly authors: readonly ChangeAuthor[]
  /** The rich text at `seq`, plus the text deleted since `since`, as a ProseMirror doc. */
  readonly doc: ProseMirrorJson
  /** Characters added and deleted since `since` (0 without it). */
  readonly addedChars: number
  readonly deletedChars: number
}

/** Longest stretch of replaying before yielding to the event loop, ms. */
const REPLAY_SLICE_MS = 8

/** Who made one logged update, and when. */
interface Stamp {
  readonly seq: number
  readonly userId: string | null
  readonly at: string
}

interface ClockRange {
  readonly start: number
  readonly end: number
  readonly stamp: Stamp
}

/** Clock ranges per Yjs client, each stamped with the update that made it. */
class StampedRanges {
  readonly #byClient = new Map<number, ClockRange[]>()
  #isSorted = true

  add(client: number, start: number, end: number, stamp: Stamp): void {
    let ranges = this.#byClient.get(client)
    if (ranges === undefined) this.#byClient.set(client, (ranges = []))
    const last = ranges[ranges.length - 1]
    if (last !== undefined && last.start > start) this.#isSorted = false
    ranges.push({ start, end, stamp })
  }

  /** The range holding `clock`, else where the next range starts (or Infinity). */
  find(client: number, clock: number): ClockRange | number {
    if (!this.#isSorted) {
      for (const ranges of this.#byClient.values()) ranges.sort((a, b) => a.start - b.start)
      this.#isSorted = true
    }
    const ranges = this.#byClient.get(client) ?? []
    let low = 0
    let high = ranges.length
    while (low < high) {
      const middle = (low + high) >>> 1
      if ((ranges[middle] as ClockRange).end <= clock) low = middle + 1
      else high = middle
    }
    const found = ranges[low]
    if (found === undefined) return Infinity
    return found.start <= clock ? found : found.start
  }
}

/**
 * Replays `window` and describes the rich text at `seq` with its authors,
 * and, when `since` is given, what was added and deleted after `since`.
 * The window must start at or before `since` and end at `seq`
 * (`loadHistoryWindow` makes it so). Costs one replay of the window's
 * updates, in slices of at most `REPLAY_SLICE_MS` with the event loop free
 * between them; the document is destroyed before it resolves. The content
 * goes through the same sanitising builder as every export (unknown types
 * dropped, attributes checked, unsafe links unlinked). Rejects with
 * `ContentError` (`CONTENT_TOO_DEEP`) for rich text nested deeper than
 * `MAX_DOCUMENT_DEPTH`, deleted elements included.
 */
export const describeChanges = async (
  window: HistoryWindow,
  seq: number,
  since: number | null,
): Promise<DocumentChanges> => {
  const doc = new Y.Doc({ gc: false })
  try {
    if (window.base !== null) Y.applyUpdate(doc, window.base)
    const inserts = new StampedRanges()
    const deletes = new StampedRanges()
    let stamp: Stamp | null = null
    doc.on('afterTransaction', (transaction: Y.Transaction) => {
      if (stamp === null) return
      for (const [client, after] of transaction.afterState) {
        const before = transaction.beforeState.get(client) ?? 0
        if (after > before) inserts.add(client, before, after, stamp)
      }
      for (const [client, items] of transaction.deleteSet.clients) {
        for (const item of items) deletes.add(client, item.clock, item.clock + item.len, stamp)
      }
    })
    // Thousands of updates take a few hundred ms: apply them in slices and
    // let the node's other work (every open document's edits) run between.
    let sliceStartedAt = performance.now()
    for (const update of window.updates) {
      if (performance.now() - sliceStartedAt > REPLAY_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStartedAt = performance.now()
      }
      stamp = {
        seq: update.seq,
        userId: update.userId,
        at: new Date(update.receivedAt).toISOString(),
      }
      Y.applyUpdate(doc, update.data)
    }

    const fragment = doc.getXmlFragment(RICH_TEXT_FRAGMENT)
    // The walk recurses once per level: bounded first.
    checkFragmentDepth(fragment, true)
    const walker = new ChangeWalker(inserts, deletes, window.baseSeq, since)
    const content = walker.walkChildren(fragment)
    const authors = [...walker.authorIds].sort().map((id) => ({
      id,
      name: window.names.get(id) ?? null,
    }))
    return {
      seq,
      since,
      attributedFrom: window.baseSeq,
      authors,
      doc: toDocumentNode(changesSchema(), {
        type: 'doc',
        content: content as JSONContent[],
      }).toJSON() as ProseMirrorJson,
      addedChars: walker.addedChars,
      deletedChars: walker.deletedChars,
    }
  } finally {
    doc.destroy()
  }
}

/** Walks the rich text into ProseMirror JSON, splitting text where its stamps change. */
class ChangeWalker {
  readonly authorIds = new Set<string>()
  addedChars = 0
  deletedChars = 0

  constructor(
    private readonly inserts: StampedRanges,
    private readonly deletes: StampedRanges,
    private readonly baseSeq: number,
    private readonly since: number | null,
  ) {}

  walkChildren(parent: Y.XmlFragment | Y.XmlElement): ProseMirrorJson[] {
    const nodes: ProseMirrorJson[] = []
    for (let item = parent._start; item !== null; item = item.right) {
      if (!(item.content instanceof Y.ContentType)) continue
      if (this.#kindAt(item, item.id.clock) === null) continue
      const type = item.content.type
      if (type instanceof Y.XmlElement) {
        const attrs = type.getAttributes()
        const content = this.walkChildren(type)
        nodes.push({
          type: type.nodeName,
          ...(Object.keys(attrs).length > 0 ? { attrs } : {}),
          ...(content.length > 0 ? { content } : {}),
        })
      } else if (type instanceof Y.XmlText) {
        // One by one: a paragraph can hold hundreds of thousands of runs,
        // more than `push(...runs)` can pass as arguments.
        for (const run of this.#walkText(type)) nodes.push(run)
      }
    }
    return nodes
  }

  #walkText(text: Y.XmlText): ProseMirrorJson[] {
    const nodes: ProseMirrorJson[] = []
    let lastKey = ''
    const formats = new Map<string, unknown>()
    for (let item = text._start; item !== null; item = item.right) {
      const { content } = item
      if (content instanceof Y.ContentFormat) {
        // Formatting as the later version has it.
        if (!item.deleted) {
          if (content.value === null) formats.delete(content.key)
          else formats.set(content.key, content.value)
        }
        continue
      }
      if (!(content instanceof Y.ContentString)) continue
      for (const segment of this.#segmentsOf(item)) {
        const str = content.str.slice(segment.from - item.id.clock, segment.to - item.id.clock)
        if (segment.attrs.kind === 'added') this.addedChars += str.length
        if (segment.attrs.kind === 'deleted') this.deletedChars += str.length
        for (const id of [segment.attrs.author, segment.attrs.deletedBy]) {
          if (id !== null) this.authorIds.add(id)
        }
        const formatMarks = marksOf(formats)
        const key = JSON.stringify([formatMarks, { ...segment.attrs, at: 0, deletedAt: 0 }])
        // Same marks and people as the run before: one run, whose times are the latest.
        const previous = lastKey === key ? nodes[nodes.length - 1] : undefined
        const attrs =
          previous === undefined ? segment.attrs : latestOf(changeAttrsOf(previous), segment.attrs)
        const node = {
          type: 'text',
          text: `${previous?.text ?? ''}${str}`,
          marks: [...formatMarks, { type: 'change', attrs }],
        }
        if (previous === undefined) nodes.push(node)
        else nodes[nodes.length - 1] = node
        lastKey = key
      }
    }
    return nodes
  }

  /** The runs of `item` that either version shows, split where stamps change. */
  *#segmentsOf(item: Y.Item): Generator<{ from: number; to: number; attrs: ChangeAttrs }> {
    const { client } = item.id
    const end = item.id.clock + item.length
    for (let clock = item.id.clock; clock < end;) {
      const inserted = this.inserts.find(client, clock)
      const deleted = item.deleted ? this.deletes.find(client, clock) : Infinity
      const to = Math.min(end, boundaryOf(inserted), boundaryOf(deleted))
      const kind = this.#kind(stampOf(inserted), item.deleted, stampOf(deleted))
      if (kind !== null) {
        const insertStamp = stampOf(inserted)
        const deleteStamp = kind === 'deleted' ? stampOf(deleted) : null
        yield {
          from: clock,
          to,
          attrs: {
            kind,
            author: insertStamp?.userId ?? null,
            at: insertStamp?.at ?? null,
            deletedBy: deleteStamp?.userId ?? null,
            deletedAt: deleteStamp?.at ?? null,
          },
        }
      }
      clock = to
    }
  }

  #kindAt(item: Y.Item, clock: number): ChangeKind | null {
    const inserted = this.inserts.find(item.id.client, clock)
    const deleted = item.deleted ? this.deletes.find(item.id.client, clock) : Infinity
    return this.#kind(stampOf(inserted), item.deleted, stampOf(deleted))
  }

  /**
   * Kept, added or deleted, or null when neither version shows it. No
   * insert stamp: the base state held it. Deleted without a delete stamp:
   * deleted before the window, so neither version shows it.
   */
  #kind(inserted: Stamp | null, isDeleted: boolean, deleted: Stamp | null): ChangeKind | null {
    if (isDeleted && deleted === null) return null
    const isInLater = !isDeleted
    if (this.since === null) return isInLater ? 'kept' : null
    const insertedSeq = inserted?.seq ?? this.baseSeq
    const isInEarlier = insertedSeq <= this.since && (deleted === null || deleted.seq > this.since)
    if (isInLater) return isInEarlier ? 'kept' : 'added'
    return isInEarlier ? 'deleted' : null
  }
}

const changeAttrsOf = (node: ProseMirrorJson): ChangeAttrs =>
  node.marks?.find((mark) => mark.type === 'change')?.attrs as ChangeAttrs

const laterOf = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null || a > b ? a : b

const latestOf = (a: ChangeAttrs, b: ChangeAttrs): ChangeAttrs => ({
  ...b,
  at: laterOf(a.at, b.at),
  deletedAt: laterOf(a.deletedAt, b.deletedAt),
})

const boundaryOf = (found: ClockRange | number): number =>
  typeof found === 'number' ? found : found.end

const stampOf = (found: ClockRange | number): Stamp | null =>
  typeof found === 'number' ? null : found.stamp

/** y-prosemirror stores marks as text attributes named `<mark>` or `<mark>--<hash>`. */
const marksOf = (formats: ReadonlyMap<string, unknown>): ProseMirrorMark[] =>
  [...formats].flatMap(([key, value]): ProseMirrorMark[] => {
    const type = key.split('--')[0] ?? key
    if (type === 'ychange' || type === 'change') return []
    const attrs = typeof value === 'object' && value !== null ? value : {}
    return [Object.keys(attrs).length > 0 ? { type, attrs } : { type }]
  })
