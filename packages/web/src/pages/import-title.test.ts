import { describe, expect, it } from 'vitest'
import { hasMarkdownHeading, importTitleOf } from './import-title.js'

const html = (title: string, hasHeading: boolean) => () => ({ title, hasHeading })

describe('importTitleOf', () => {
  it("sends an HTML file's <title>", () => {
    expect(importTitleOf('x.html', 'html', '', html('  Quarterly plan ', true))).toBe(
      'Quarterly plan',
    )
    expect(importTitleOf('x.html', 'html', '', html('Quarterly\n plan', false))).toBe(
      'Quarterly plan',
    )
  })

  it('sends nothing when the content has a heading, for the server to use', () => {
    expect(importTitleOf('x.html', 'html', '', html(' ', true))).toBeUndefined()
    expect(importTitleOf('Trip.md', 'markdown', '# Packing\n\nText')).toBeUndefined()
  })

  it('falls back to the file name when the content names nothing', () => {
    expect(importTitleOf('Loose notes.html', 'html', '', html('', false))).toBe('Loose notes')
    expect(importTitleOf('Loose notes.md', 'markdown', 'Just text.')).toBe('Loose notes')
    expect(importTitleOf('.md', 'markdown', 'Just text.')).toBe('Imported')
  })
})

describe('hasMarkdownHeading', () => {
  it('finds ATX and setext headings of the levels a document keeps', () => {
    expect(hasMarkdownHeading('intro\n\n## Two')).toBe(true)
    expect(hasMarkdownHeading('Title\n=====\n')).toBe(true)
    expect(hasMarkdownHeading('Title\n---\n')).toBe(true)
  })

  it('ignores what only looks like one', () => {
    expect(hasMarkdownHeading('#hashtag\n\n#### Four')).toBe(false)
    expect(hasMarkdownHeading('```\n# not a heading\n```\ntext')).toBe(false)
    expect(hasMarkdownHeading('- item\n---\n')).toBe(false)
    expect(hasMarkdownHeading('text\n\n---\n')).toBe(false)
  })
})
