/**
 * Field case F8, reduced for the suite: 2,000 short sessions, each on its
 * own document, leave no rooms, sessions, timers or heap behind once their
 * rooms are unloaded (DOC-3), and every document is stored. The check and
 * how it measures are in test/support/many-sessions.ts; the fault suite
 * runs it with 20,000 sessions.
 */
import { describe, it } from 'vitest'
import { checkManySessions } from '../support/many-sessions.js'

describe('many short sessions (DOC-3, F8)', () => {
  it('returns to its baseline heap, timers and room count after 2,000 sessions, all stored', async () => {
    await checkManySessions(2_000)
  })
})
