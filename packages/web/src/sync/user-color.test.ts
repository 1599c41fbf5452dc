import { describe, expect, it } from 'vitest'
import { colorIndexesForUsers, colorIndexForUser, PALETTE_SIZE } from './user-color.js'

describe('colorIndexesForUsers', () => {
  it('gives each person their own caret colour when no one else has it', () => {
    const indexes = colorIndexesForUsers(['user-a', 'user-b'])
    expect(indexes.get('user-a')).toBe(colorIndexForUser('user-a'))
    expect(indexes.get('user-b')).toBe(colorIndexForUser('user-b'))
  })

  it('moves a person whose colour is taken to the next free one', () => {
    const first = 'person-0'
    const twin = Array.from({ length: 100 }, (_, i) => `twin-${i}`).find(
      (id) => colorIndexForUser(id) === colorIndexForUser(first),
    )
    expect(twin).toBeDefined()
    const indexes = colorIndexesForUsers([first, twin ?? ''])
    expect(indexes.get(first)).toBe(colorIndexForUser(first))
    expect(indexes.get(twin ?? '')).toBe((colorIndexForUser(first) + 1) % PALETTE_SIZE)
  })

  it('never gives two of up to ten people the same colour', () => {
    const ids = Array.from({ length: PALETTE_SIZE }, (_, i) => `person-${i}`)
    expect(new Set(colorIndexesForUsers(ids).values()).size).toBe(PALETTE_SIZE)
  })
})
