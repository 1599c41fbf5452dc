/**
 * Field case F8 at full size: 20,000 short sessions on distinct documents
 * leave no rooms, sessions, timers or heap behind, and every document is
 * stored (see test/support/many-sessions.ts). In the fault suite because it
 * takes about a minute and a half.
 */
import { describe, it } from 'vitest'
import { checkManySessions } from '../support/many-sessions.js'

describe('20,000 short sessions (F8)', () => {
  it('returns to its baseline heap, timers and room count, all stored', async () => {
    await checkManySessions(20_000)
  }, 300_000)
})
