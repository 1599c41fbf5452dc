import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { HistoryWindow, LoggedUpdate } from '../store/index.js'
import { type ChangeAttrs, describeChanges, type ProseMirrorJson } from './attribution.js'

/** Records each local update of `doc` as a log row by `userId`. */
const recordInto = (log: LoggedUpdate[], doc: Y.Doc, userId: string | null): void => {
  doc.on('update', (data: Uint8Array, origin: unknown) => {
    if (origin === 'remote') return
    log.push({
      seq: log.length + 1,
      data,
      userId,
      receivedAt: new Date(1_700_000_000_000 + log.length * 1000),
    })
  })
}

const paragraphText = (doc: Y.Doc, index: number): Y.XmlText =>
  (doc.getXmlFragment('default').get(index) as Y.XmlElement).get(0) as Y.XmlText

/** The text runs of a described doc as [text, kind, author, deletedBy]. */
const runsOf = (node: ProseMirrorJson): [string, string, string | null, string | null][] =>
  node.type === 'text'
    ? [
        ((attrs: ChangeAttrs) => [node.text ?? '', attrs.kind, attrs.author, attrs.deletedBy])(
          node.marks?.find((mark) => mark.type === 'change')?.attrs as ChangeAttrs,
        ) as [string, string, string | null, string | null],
      ]
    : (node.content ?? []).flatMap(runsOf)

const windowOf = (log: LoggedUpdate[], upTo: number): HistoryWindow => ({
  baseSeq: 0,
  base: null,
  updates: log.slice(0, upTo),
  names: new Map([
    ['ada', 'Ada'],
    ['bob', 'Bob'],
  ]),
})

describe('describeChanges', () => {
  it('attributes each run to the person whose update inserted it, and marks what changed', async () => {
    const log: LoggedUpdate[] = []
    const ada = new Y.Doc()
    const bob = new Y.Doc()
    recordInto(log, ada, 'ada')
    ada.on('update', (update: Uint8Array) => Y.applyUpdate(bob, update, 'remote'))
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('Hello world')])
    ada.getXmlFragment('default').insert(0, [paragraph])
    const versionOne = log.length

    const bobLog: LoggedUpdate[] = []
    recordInto(bobLog, bob, 'bob')
    bob.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') Y.applyUpdate(ada, update, 'remote')
    })
    paragraphText(bob, 0).insert(5, ', dear')
    paragraphText(bob, 0).format(0, 5, { bold: {} })
    paragraphText(bob, 0).delete(11, 6) // ' world'
    for (const row of bobLog) log.push({ ...row, seq: log.length + 1 })

    const attributed = await describeChanges(windowOf(log, log.length), log.length, null)
    expect(runsOf(attributed.doc)).toEqual([
      ['Hello', 'kept', 'ada', null],
      [', dear', 'kept', 'bob', null],
    ])
    expect(attributed.doc.content?.[0]?.content?.[0]?.marks?.[0]).toEqual({ type: 'bold' })
    expect(attributed.authors).toEqual([
      { id: 'ada', name: 'Ada' },
      { id: 'bob', name: 'Bob' },
    ])

    const diff = await describeChanges(windowOf(log, log.length), log.length, versionOne)
    expect(runsOf(diff.doc)).toEqual([
      ['Hello', 'kept', 'ada', null],
      [', dear', 'added', 'bob', null],
      [' world', 'deleted', 'ada', 'bob'],
    ])
    expect([diff.addedChars, diff.deletedChars]).toEqual([6, 6])

    // The earlier version itself: nothing of Bob's yet.
    expect(
      runsOf((await describeChanges(windowOf(log, versionOne), versionOne, null)).doc),
    ).toEqual([['Hello world', 'kept', 'ada', null]])
  })

  it('leaves text from the base state unattributed, and splits runs typed one update each', async () => {
    const log: LoggedUpdate[] = []
    const doc = new Y.Doc()
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText('old ')])
    doc.getXmlFragment('default').insert(0, [paragraph])
    const base = Y.encodeStateAsUpdate(doc)
    recordInto(log, doc, 'ada')
    for (const [i, char] of [...'abc'].entries()) paragraphText(doc, 0).insert(4 + i, char)
    recordInto([], doc, null)
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    const bobLog: LoggedUpdate[] = []
    recordInto(bobLog, other, 'bob')
    paragraphText(other, 0).insert(7, 'd')
    for (const row of bobLog) log.push({ ...row, seq: log.length + 1 + 10 })
    const changes = await describeChanges(
      {
        baseSeq: 10,
        base,
        updates: log.map((row, i) => ({ ...row, seq: 11 + i })),
        names: new Map(),
      },
      14,
      null,
    )
    expect(runsOf(changes.doc)).toEqual([
      ['old ', 'kept', null, null],
      ['abc', 'kept', 'ada', null],
      ['d', 'kept', 'bob', null],
    ])
    expect(changes.attributedFrom).toBe(10)
    expect(changes.authors).toEqual([
      { id: 'ada', name: null },
      { id: 'bob', name: null },
    ])
  })

  it('describes a paragraph of 150,000 formatted runs', async () => {
    const log: LoggedUpdate[] = []
    const doc = new Y.Doc()
    recordInto(log, doc, 'ada')
    const paragraph = new Y.XmlElement('paragraph')
    const text = new Y.XmlText()
    paragraph.insert(0, [text])
    doc.transact(() => {
      doc.getXmlFragment('default').insert(0, [paragraph])
      const delta: { insert: string; attributes?: object }[] = []
      for (let i = 0; i < 150_000; i++)
        delta.push({ insert: 'a', attributes: { italic: {} } }, { insert: 'b' })
      text.applyDelta(delta)
    })
    const changes = await describeChanges(windowOf(log, log.length), log.length, null)
    const runs = changes.doc.content?.[0]?.content ?? []
    expect(runs.length).toBe(300_000)
  }, 60_000)

  it('answers with content only the schema holds: unknown types, attributes and unsafe links dropped', async () => {
    const log: LoggedUpdate[] = []
    const doc = new Y.Doc()
    recordInto(log, doc, 'ada')
    const element = (name: string, attrs: Record<string, string>, text: string): Y.XmlElement => {
      const node = new Y.XmlElement(name)
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value)
      node.insert(0, [new Y.XmlText(text)])
      return node
    }
    const linked = new Y.XmlText()
    const linkParagraph = new Y.XmlElement('paragraph')
    linkParagraph.insert(0, [linked])
    doc
      .getXmlFragment('default')
      .insert(0, [
        element('script', {}, 'alert(1)'),
        element('paragraph', { onclick: 'alert(1)', style: 'x' }, 'p'),
        element('iframe', { src: 'javascript:alert(1)' }, 'frame'),
        element('heading', { level: '1" onclick="x' }, 'h'),
        linkParagraph,
      ])
    linked.insert(0, 'js', { link: { href: 'javascript:alert(1)', onclick: 'x' } })
    const changes = await describeChanges(windowOf(log, log.length), log.length, null)
    const json = JSON.stringify(changes.doc)
    expect(json).not.toMatch(/script"|iframe|onclick|style|javascript/)
    expect(changes.doc.content?.map((node) => node.type)).toEqual([
      'paragraph',
      'paragraph',
      'paragraph',
      'heading',
      'paragraph',
    ])
    expect(changes.doc.content?.[3]?.attrs).toEqual({ level: 1 })
    expect(runsOf(changes.doc).map(([text]) => text)).toEqual(['alert(1)', 'p', 'frame', 'h', 'js'])
  })

  it('refuses rich text nested deeper than MAX_DOCUMENT_DEPTH with CONTENT_TOO_DEEP', async () => {
    const log: LoggedUpdate[] = []
    const doc = new Y.Doc()
    recordInto(log, doc, 'ada')
    doc.transact(() => {
      let parent: Y.XmlFragment | Y.XmlElement = doc.getXmlFragment('default')
      for (let i = 0; i < 20_000; i++) {
        const quote = new Y.XmlElement('blockquote')
        parent.insert(0, [quote])
        parent = quote
      }
    })
    await expect(
      describeChanges(windowOf(log, log.length), log.length, null),
    ).rejects.toMatchObject({
      code: 'CONTENT_TOO_DEEP',
    })
  })
})
