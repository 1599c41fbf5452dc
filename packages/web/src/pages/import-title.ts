/**
 * The title the documents page sends with an imported file. The server
 * names an import by the `title` it is given, else by the content's first
 * heading (docs/API.md, `POST /api/documents/import`); the file's name is
 * the last resort, so it is sent only when the content names nothing.
 */
import { MAX_TITLE_LENGTH } from '../api/types.js'

/** What an HTML file says about its name: its `<title>`, and whether it has a heading. */
export interface HtmlNaming {
  readonly title: string
  readonly hasHeading: boolean
}

/**
 * The `title` to send for `content` read from a file called `fileName`:
 * an HTML file's `<title>`; nothing when the content has a heading the
 * document keeps (levels 1–3), so the server takes the first one; else the
 * file name without its extension.
 */
export const importTitleOf = (
  fileName: string,
  format: 'html' | 'markdown',
  content: string,
  readHtml: (html: string) => HtmlNaming = readHtmlNaming,
): string | undefined => {
  if (format === 'html') {
    const { title, hasHeading } = readHtml(content)
    const cleaned = cleanTitle(title)
    if (cleaned !== '') return cleaned
    if (hasHeading) return undefined
  } else if (hasMarkdownHeading(content)) {
    return undefined
  }
  return cleanTitle(fileName.replace(/\.[^.]+$/, '')) || 'Imported'
}

/**
 * Reads an HTML file with the browser's parser. `DOMParser` builds an inert
 * document: no script runs and nothing is fetched.
 */
const readHtmlNaming = (html: string): HtmlNaming => {
  const parsed = new DOMParser().parseFromString(html, 'text/html')
  const headings = [...parsed.querySelectorAll('h1, h2, h3')]
  return {
    title: parsed.title,
    hasHeading: headings.some((heading) => (heading.textContent ?? '').trim() !== ''),
  }
}

/**
 * Whether Markdown has an ATX heading (`#` to `###`) or a setext one (text
 * underlined with `=` or `-`) outside fenced code. Cheap, not a parser: a
 * heading inside an HTML block or a list counts too.
 */
export const hasMarkdownHeading = (markdown: string): boolean => {
  let fence: string | null = null
  let previous = ''
  for (const line of markdown.split(/\r?\n/)) {
    const fenceMark = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1]
    if (fenceMark !== undefined) {
      if (fence === null) fence = fenceMark
      else if (fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = null
      previous = ''
      continue
    }
    if (fence !== null) continue
    if (/^ {0,3}#{1,3}[ \t]+\S/.test(line)) return true
    const isParagraphLine =
      /^ {0,3}[^\s#>*+\-|`~]/.test(previous) && !/^ {0,3}\d+[.)]\s/.test(previous)
    if (isParagraphLine && /^ {0,3}(=+|-+)[ \t]*$/.test(line)) return true
    previous = line
  }
  return false
}

const cleanTitle = (text: string): string =>
  Array.from(text.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim())
    .slice(0, MAX_TITLE_LENGTH)
    .join('')
    .trim()
