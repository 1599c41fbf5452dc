import { describe, expect, it } from 'vitest'
import {
  attachmentDisposition,
  etagMatches,
  safeFilename,
  titleFromContent,
} from './transfer-support.js'

describe('etagMatches', () => {
  it('matches the tag, its weak form, a list holding it, and *', () => {
    expect(etagMatches('"7"', '"7"')).toBe(true)
    expect(etagMatches('W/"7"', '"7"')).toBe(true)
    expect(etagMatches('"3", "7"', '"7"')).toBe(true)
    expect(etagMatches('*', '"7"')).toBe(true)
    expect(etagMatches('"70"', '"7"')).toBe(false)
    expect(etagMatches(undefined, '"7"')).toBe(false)
  })
})

describe('safeFilename', () => {
  it('removes path separators, reserved characters, controls and leading dots', () => {
    expect(safeFilename('../../etc/passwd')).toBe('etc passwd')
    expect(safeFilename('a<b>c:d"e|f?g*h\\i')).toBe('a b c d e f g h i')
    expect(safeFilename('line\nbreak\u0000')).toBe('line break')
    expect(safeFilename('...')).toBe('document')
    expect(Array.from(safeFilename('é'.repeat(300)))).toHaveLength(100)
  })

  it('removes bidi overrides and other invisible format characters', () => {
    expect(safeFilename('\u202Egnp.exe')).toBe('gnp.exe')
    expect(safeFilename('a\u202Bb\u2066c\u200Fd\u200Be\u2028f\uFEFFg')).toBe('a b c d e f g')
    expect(attachmentDisposition('\u202Egnp.exe', 'html')).toBe(
      `attachment; filename="gnp.exe.html"; filename*=UTF-8''gnp.exe.html`,
    )
  })
})

describe('attachmentDisposition', () => {
  it('gives an ASCII name and the exact UTF-8 name', () => {
    expect(attachmentDisposition('Café; plan 100%', 'md')).toBe(
      `attachment; filename="Caf__ plan 100_.md"; filename*=UTF-8''Caf%C3%A9%3B%20plan%20100%25.md`,
    )
  })
})

describe('titleFromContent', () => {
  it('collapses whitespace and controls, and gives null for nothing', () => {
    expect(titleFromContent('  A\ttitle\u0000 here ')).toBe('A title here')
    expect(titleFromContent(' \n ')).toBeNull()
    expect(titleFromContent(null)).toBeNull()
  })
})
