import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_TRACES_DIR,
  TRACE_NAMES,
  loadTrace,
  readYjsDocumentText,
  resolveTracePath,
} from './load-trace.js'
import { parseTrace, type Trace } from './parse-trace.js'
import { applyPatchesToString } from './patches.js'

// Counts from the tables in /work/shared/data/traces/README.md.
const PUBLISHED = {
  'automerge-paper': { kind: 'sequential', txns: 259_778, endLength: 104_852 },
  'seph-blog1': { kind: 'sequential', txns: 137_154, endLength: 56_769 },
  sveltecomponent: { kind: 'sequential', txns: 18_335, endLength: 18_451 },
  friendsforever: { kind: 'concurrent', txns: 26_078, endLength: 21_362, numAgents: 2 },
  A1: { kind: 'concurrent', txns: 955, endLength: 38_142, numAgents: 204 },
  A2: { kind: 'concurrent', txns: 3_210, endLength: 227_352, numAgents: 375 },
} as const

const traces = new Map<string, Trace>()
let scratchDir = ''

beforeAll(async () => {
  for (const name of TRACE_NAMES) traces.set(name, await loadTrace(name))
  scratchDir = await mkdtemp(join(tmpdir(), 'quire-traces-'))
})

afterAll(async () => {
  await rm(scratchDir, { recursive: true, force: true })
})

const traceNamed = (name: string): Trace => {
  const trace = traces.get(name)
  if (trace === undefined) throw new Error(`trace ${name} was not loaded`)
  return trace
}

describe('loadTrace', () => {
  it('finds the shared traces folder by default', async () => {
    expect(DEFAULT_TRACES_DIR.endsWith(join('shared', 'data', 'traces'))).toBe(true)
    await expect(resolveTracePath('A1')).resolves.toBe(
      join(DEFAULT_TRACES_DIR, 'concurrent', 'A1.json'),
    )
  })

  it.each(TRACE_NAMES)('reads %s with the published counts', (name) => {
    const trace = traceNamed(name)
    const published = PUBLISHED[name]
    expect(trace.name).toBe(name)
    expect(trace.kind).toBe(published.kind)
    expect(trace.txns.length).toBe(published.txns)
    expect(trace.endContent.length).toBe(published.endLength)
    if (trace.kind === 'concurrent' && 'numAgents' in published) {
      expect(trace.numAgents).toBe(published.numAgents)
    }
  })

  it('uses endContent as the Yjs check value except for A2', () => {
    for (const name of TRACE_NAMES) {
      const trace = traceNamed(name)
      if (name !== 'A2') expect(trace.expectedText).toBe(trace.endContent)
    }
    expect(traceNamed('A2').expectedText).not.toBe(traceNamed('A2').endContent)
  })

  it('gives A2 the text of yjs-binary/A2.yjs as its check value', async () => {
    const a2Text = await readYjsDocumentText(join(DEFAULT_TRACES_DIR, 'yjs-binary', 'A2.yjs'))
    expect(a2Text.length).toBe(227_126)
    expect(traceNamed('A2').expectedText).toBe(a2Text)
  })

  it('reads a trace given by path like the same trace given by name', async () => {
    const byPath = await loadTrace(
      join(DEFAULT_TRACES_DIR, 'sequential', 'sveltecomponent.json.gz'),
    )
    expect(byPath).toEqual(traceNamed('sveltecomponent'))
  })

  it('replays each sequential trace on a plain string to its endContent', () => {
    for (const name of ['sveltecomponent', 'seph-blog1'] as const) {
      const trace = traceNamed(name)
      let text = ''
      for (const txn of trace.txns) text = applyPatchesToString(text, txn.patches)
      expect(text).toBe(trace.endContent)
    }
  })

  it('only meets BMP text, so UTF-16 indices equal code point positions', () => {
    const surrogate = /[\uD800-\uDFFF]/
    const offending: string[] = []
    for (const trace of traces.values()) {
      if (surrogate.test(trace.endContent)) offending.push(`${trace.name} endContent`)
      trace.txns.forEach((txn, index) => {
        const hasSurrogate = txn.patches.some(([, , ins]) => surrogate.test(ins))
        if (hasSurrogate) offending.push(`${trace.name} txn ${index}`)
      })
    }
    expect(offending).toEqual([])
  })

  it('names the places it tried for an unknown name', async () => {
    await expect(loadTrace('no-such-trace')).rejects.toThrow(
      /no trace named "no-such-trace": tried .*sequential/,
    )
  })

  it('names the file when it is not JSON', async () => {
    const path = join(scratchDir, 'broken.json.gz')
    await writeFile(path, gzipSync(Buffer.from('{"txns": [')))
    await expect(loadTrace(path)).rejects.toThrow(`invalid trace ${path}: not JSON`)
  })

  it('names the file and the JSON path when the shape is wrong', async () => {
    const path = join(scratchDir, 'bad-patch.json')
    await writeFile(path, JSON.stringify({ endContent: '', txns: [{ patches: [[0, -1, 'x']] }] }))
    await expect(loadTrace(path)).rejects.toThrow(
      `invalid trace ${path}: txns[0].patches[0][1] must be a non-negative integer, got -1`,
    )
  })
})

describe('parseTrace', () => {
  const concurrent = (txns: unknown[]): unknown => ({
    kind: 'concurrent',
    endContent: 'ab',
    numAgents: 2,
    txns,
  })

  it('keeps only the fields replays use', () => {
    const trace = parseTrace(
      concurrent([{ parents: [], numChildren: 0, agent: 1, time: 'x', patches: [[0, 0, 'ab']] }]),
      'tiny',
      'tiny.json',
    )
    expect(trace).toEqual({
      kind: 'concurrent',
      name: 'tiny',
      endContent: 'ab',
      expectedText: 'ab',
      numAgents: 2,
      txns: [{ parents: [], agent: 1, patches: [[0, 0, 'ab']] }],
    })
  })

  it.each([
    [
      'a parent that is not earlier',
      [{ parents: [0], agent: 0, patches: [] }],
      /txns\[0\]\.parents/,
    ],
    ['an agent out of range', [{ parents: [], agent: 2, patches: [] }], /txns\[0\]\.agent/],
    [
      'a patch that is not a triple',
      [{ parents: [], agent: 0, patches: [[0, 0]] }],
      /patches\[0\]/,
    ],
    ['a non-string insert', [{ parents: [], agent: 0, patches: [[0, 0, 5]] }], /patches\[0\]\[2\]/],
  ])('refuses %s', (_label, txns, message) => {
    expect(() => parseTrace(concurrent(txns), 'bad', 'bad.json')).toThrow(message)
  })

  it('refuses an unknown kind and a non-empty startContent', () => {
    expect(() => parseTrace({ kind: 'x', endContent: '', txns: [] }, 'k', 'k.json')).toThrow(/kind/)
    expect(() =>
      parseTrace({ startContent: 'a', endContent: '', txns: [] }, 's', 's.json'),
    ).toThrow(/startContent/)
  })
})
