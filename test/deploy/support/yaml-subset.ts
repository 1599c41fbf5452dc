/**
 * A strict reader of the YAML the deploy/ files are written in: block
 * mappings and sequences, plain and quoted scalars, simple flow sequences,
 * literal and folded block scalars, comments and `---` between documents.
 * Anything else (anchors, aliases, tags, flow mappings, nested flow
 * collections, tabs, duplicate keys) throws with its line number, so a file
 * is never read differently from how Kubernetes or Prometheus would read it.
 *
 * Limit: no YAML library is installed in this repository (the `yaml` package
 * is not in node_modules), hence this subset. Installing `yaml` as a dev
 * dependency would let the tests read any YAML and drop this file.
 */

/** A YAML value: what `JSON.parse` could return. */
export type YamlValue =
  string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue }

interface Line {
  readonly indent: number
  readonly text: string
  readonly number: number
}

/** Parses every document of `text`, in order; throws on anything outside the subset. */
export const parseYamlDocuments = (text: string): YamlValue[] => {
  const documents: Line[][] = [[]]
  const raw = text.split('\n')
  for (let index = 0; index < raw.length; index += 1) {
    const source = raw[index] as string
    if (source === '---') {
      documents.push([])
      continue
    }
    if (/^\s*\t/.test(source)) throw new Error(`line ${index + 1}: tab in indentation`)
    const indent = source.length - source.trimStart().length
    ;(documents.at(-1) as Line[]).push({ indent, text: source.trimEnd(), number: index + 1 })
  }
  return documents
    .map((lines) => new Reader(lines))
    .filter((reader) => reader.hasContent())
    .map((reader) => reader.readDocument())
}

/** Reads one document; `at` walks the lines, blank and comment lines skipped on demand. */
class Reader {
  private at = 0
  private readonly lines: Line[]

  constructor(lines: readonly Line[]) {
    // A copy: "- key: value" rewrites its line as the mapping's first key.
    this.lines = [...lines]
  }

  hasContent(): boolean {
    return this.peek() !== undefined
  }

  readDocument(): YamlValue {
    const first = this.peek() as Line
    const value = this.readBlock(first.indent)
    const rest = this.peek()
    if (rest !== undefined) throw new Error(`line ${rest.number}: unexpected indentation`)
    return value
  }

  /** The next line with content, without consuming it. */
  private peek(): Line | undefined {
    while (this.at < this.lines.length) {
      const line = this.lines[this.at] as Line
      const content = stripComment(line.text.trim())
      if (content !== '') return { ...line, text: content }
      this.at += 1
    }
    return undefined
  }

  private readBlock(indent: number): YamlValue {
    const line = this.peek() as Line
    return isSequenceItem(line.text) ? this.readSequence(indent) : this.readMapping(indent)
  }

  private readSequence(indent: number): YamlValue[] {
    const items: YamlValue[] = []
    for (let line = this.peek(); line?.indent === indent; line = this.peek()) {
      if (!isSequenceItem(line.text)) throw new Error(`line ${line.number}: expected "- "`)
      const rest = line.text.slice(1).trimStart()
      if (rest === '') {
        this.at += 1
        items.push(this.readNested(indent, line))
      } else if (keyOf(rest) !== null) {
        // "- key: value" opens a mapping whose keys sit two columns in.
        const inner = indent + line.text.length - rest.length
        this.replaceCurrent({ indent: inner, text: rest, number: line.number })
        items.push(this.readMapping(inner))
      } else {
        this.at += 1
        items.push(this.readValue(rest, indent, line))
      }
    }
    return items
  }

  private readMapping(indent: number): { [key: string]: YamlValue } {
    const mapping: { [key: string]: YamlValue } = {}
    for (let line = this.peek(); line?.indent === indent; line = this.peek()) {
      const entry = keyOf(line.text)
      if (entry === null) throw new Error(`line ${line.number}: expected "key: value"`)
      if (Object.hasOwn(mapping, entry.key)) {
        throw new Error(`line ${line.number}: duplicate key ${entry.key}`)
      }
      this.at += 1
      mapping[entry.key] =
        entry.rest === '' ? this.readNested(indent, line) : this.readValue(entry.rest, indent, line)
    }
    return mapping
  }

  /** The value of "key:" or "-" with nothing after it: a deeper block, a sequence at the same column, or null. */
  private readNested(indent: number, owner: Line): YamlValue {
    const next = this.peek()
    if (next === undefined) return null
    if (next.indent > indent) return this.readBlock(next.indent)
    if (next.indent === indent && isSequenceItem(next.text) && !isSequenceItem(owner.text)) {
      return this.readSequence(indent)
    }
    return null
  }

  private readValue(text: string, indent: number, line: Line): YamlValue {
    if (/^[|>][+-]?$/.test(text)) return this.readBlockScalar(text, indent)
    return parseScalarOrFlow(text, line.number)
  }

  /** `|`, `|-`, `>`, `>-`: the following more-indented lines, comments included as text. */
  private readBlockScalar(header: string, indent: number): string {
    const body: string[] = []
    let contentIndent: number | undefined
    while (this.at < this.lines.length) {
      const line = this.lines[this.at] as Line
      if (line.text.trim() !== '') {
        if (line.indent <= indent) break
        contentIndent ??= line.indent
        if (line.indent < contentIndent) throw new Error(`line ${line.number}: bad indentation`)
      }
      body.push(line.text.slice(contentIndent ?? 0))
      this.at += 1
    }
    while (body.at(-1) === '') body.pop()
    const text = header.startsWith('|')
      ? body.join('\n')
      : body.reduce((folded, part) => {
          if (folded === '') return part
          if (part === '') return `${folded}\n`
          return folded.endsWith('\n') ? folded + part : `${folded} ${part}`
        }, '')
    return header.endsWith('-') ? text : `${text}\n`
  }

  private replaceCurrent(line: Line): void {
    this.lines[this.at] = line
  }
}

const isSequenceItem = (text: string): boolean => text === '-' || text.startsWith('- ')

/** "key: rest" or "key:" with a plain or quoted key; null when the line is not an entry. */
const keyOf = (text: string): { key: string; rest: string } | null => {
  const quoted = /^(['"])(.*?)\1:(?: +(.*))?$/.exec(text)
  if (quoted !== null) return { key: quoted[2] as string, rest: quoted[3] ?? '' }
  const plain = /^([^\s'"[\]{}#&*!|>%@`,-][^:#]*?|-[^\s:][^:#]*?):(?: +(.*))?$/.exec(text)
  if (plain === null) return null
  return { key: plain[1] as string, rest: plain[2] ?? '' }
}

/** Drops a comment: `#` at the start or after a space, outside quotes. */
const stripComment = (text: string): string => {
  let quote: string | null = null
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string
    if (quote !== null) {
      if (char === quote) quote = null
    } else if (char === "'" || char === '"') {
      quote = char
    } else if (char === '#' && (index === 0 || text[index - 1] === ' ')) {
      return text.slice(0, index).trimEnd()
    }
  }
  return text
}

const parseScalarOrFlow = (text: string, lineNumber: number): YamlValue => {
  if (text === '[]') return []
  if (text === '{}') return {}
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) throw new Error(`line ${lineNumber}: unclosed flow sequence`)
    return splitFlow(text.slice(1, -1), lineNumber).map((item) => parseScalar(item, lineNumber))
  }
  return parseScalar(text, lineNumber)
}

/** Splits "a, 'b, c', d" on the commas outside quotes. */
const splitFlow = (text: string, lineNumber: number): string[] => {
  const items: string[] = []
  let quote: string | null = null
  let start = 0
  for (let index = 0; index <= text.length; index += 1) {
    const char = text[index]
    if (quote !== null) {
      if (char === quote) quote = null
    } else if (char === "'" || char === '"') {
      quote = char
    } else if (char === '[' || char === '{') {
      throw new Error(`line ${lineNumber}: nested flow collections are outside the subset`)
    } else if (char === ',' || char === undefined) {
      items.push(text.slice(start, index).trim())
      start = index + 1
    }
  }
  return items
}

const parseScalar = (text: string, lineNumber: number): YamlValue => {
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`line ${lineNumber}: bad quoted ${text}`)
    return text.slice(1, -1).replaceAll("''", "'")
  }
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string
    } catch {
      throw new Error(`line ${lineNumber}: a double-quoted string outside the subset: ${text}`)
    }
  }
  if (/^[[\]{}&*!|>%@`]/.test(text)) {
    throw new Error(`line ${lineNumber}: outside the YAML subset: ${text}`)
  }
  if (/^(?:null|Null|NULL|~)$/.test(text)) return null
  if (/^(?:true|True|TRUE)$/.test(text)) return true
  if (/^(?:false|False|FALSE)$/.test(text)) return false
  if (/^[-+]?\d+$/.test(text)) return Number(text)
  if (/^[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(text)) return Number(text)
  if (/: |\s#/.test(text)) throw new Error(`line ${lineNumber}: ambiguous plain scalar: ${text}`)
  return text
}
