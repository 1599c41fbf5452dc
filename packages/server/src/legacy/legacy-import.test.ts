/**
 * The pure parts of the legacy import: identifier quoting, the organisation
 * map and the rule that places each snapshot.
 */
import { describe, expect, it } from 'vitest'
import { parseOrgMap, resolveTargetOrg } from './legacy-import.js'
import { quoteIdentifier, quoteTableName } from './legacy-source.js'

describe('quoteIdentifier', () => {
  it('quotes names literally, doubling inner quotes', () => {
    expect(quoteIdentifier('Doc ID')).toBe('"Doc ID"')
    expect(quoteIdentifier('x"; DROP TABLE users; --')).toBe('"x""; DROP TABLE users; --"')
    expect(quoteTableName('legacy.documents')).toBe('"legacy"."documents"')
  })

  it('refuses empty names, NUL characters and over-qualified tables', () => {
    expect(() => quoteIdentifier('')).toThrow(RangeError)
    expect(() => quoteIdentifier('a\u0000b')).toThrow(RangeError)
    expect(() => quoteTableName('a.b.c')).toThrow(RangeError)
    expect(() => quoteTableName('.documents')).toThrow(RangeError)
  })
})

describe('organisation placement', () => {
  it('parses legacyOrg=quireOrg pairs and refuses malformed or repeated ones', () => {
    expect(parseOrgMap('1=org-a, 2 = org-b')).toEqual(
      new Map([
        ['1', 'org-a'],
        ['2', 'org-b'],
      ]),
    )
    expect(() => parseOrgMap('1=org-a,2')).toThrow('"2" is not legacyOrg=quireOrg')
    expect(() => parseOrgMap('1=a,1=b')).toThrow('twice')
    expect(() => parseOrgMap('=a')).toThrow(RangeError)
  })

  it('places by the map first, then --org, and never guesses', () => {
    const rule = { orgMap: new Map([['1', 'org-a']]), defaultOrgId: null }
    expect(resolveTargetOrg(rule, '1')).toEqual({ ok: true, orgId: 'org-a' })
    expect(resolveTargetOrg(rule, '2')).toMatchObject({ ok: false })
    expect(resolveTargetOrg(rule, null)).toMatchObject({ ok: false })
    const withDefault = { ...rule, defaultOrgId: 'org-z' }
    expect(resolveTargetOrg(withDefault, '2')).toEqual({ ok: true, orgId: 'org-z' })
    expect(resolveTargetOrg(withDefault, null)).toEqual({ ok: true, orgId: 'org-z' })
  })
})
