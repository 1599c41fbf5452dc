import { describe, expect, it } from 'vitest'
import { parseRoute } from './router.js'

describe('parseRoute', () => {
  it('maps the app paths to pages', () => {
    expect(parseRoute('/', '')).toEqual({ page: 'documents' })
    expect(parseRoute('/d/abc_DEF-1', '')).toEqual({ page: 'editor', docId: 'abc_DEF-1' })
    expect(parseRoute('/signin', '?next=%2Fd%2Fabc')).toEqual({ page: 'signin', next: '/d/abc' })
    expect(parseRoute('/d/-bad', '')).toEqual({ page: 'not-found' })
  })

  it('only returns to local paths after sign-in', () => {
    expect(parseRoute('/signin', '?next=//evil.example')).toEqual({ page: 'signin', next: '/' })
    expect(parseRoute('/signup', '?next=https://evil.example')).toEqual({
      page: 'signup',
      next: '/',
    })
  })
})
