import { getSchema, resolveExtensions } from '@tiptap/core'
import { describe, expect, it } from 'vitest'
import { documentExtensions, isAllowedLink } from './editor.js'

describe('documentExtensions', () => {
  it('defines exactly the node and mark types of a Quire document', () => {
    const schema = getSchema(documentExtensions())
    expect(Object.keys(schema.nodes).sort()).toEqual(
      [
        'blockquote',
        'bulletList',
        'codeBlock',
        'doc',
        'hardBreak',
        'heading',
        'horizontalRule',
        'listItem',
        'orderedList',
        'paragraph',
        'taskItem',
        'taskList',
        'text',
      ].sort(),
    )
    expect(Object.keys(schema.marks).sort()).toEqual(['bold', 'code', 'italic', 'link', 'strike'])
  })

  it('leaves undo out, so the collaboration undo manager is the only one', () => {
    const names = resolveExtensions(documentExtensions()).map((extension) => extension.name)
    expect(names).toContain('bold')
    expect(names).not.toContain('undoRedo')
  })
})

describe('isAllowedLink', () => {
  it('allows web and mail links and refuses script and data URLs', () => {
    expect(isAllowedLink('https://example.com')).toBe(true)
    expect(isAllowedLink('mailto:ada@example.com')).toBe(true)
    expect(isAllowedLink('example.com/page')).toBe(true)
    expect(isAllowedLink('javascript:alert(1)')).toBe(false)
    expect(isAllowedLink(' JavaScript:alert(1)')).toBe(false)
    expect(isAllowedLink('data:text/html,hi')).toBe(false)
  })
})
