import { describe, expect, it } from 'vitest'
import { AwarenessRegistry, MAX_AWARENESS_IDS_PER_SESSION } from './awareness-registry.js'

const state = (name: string): Record<string, unknown> => ({ user: { name } })

describe('AwarenessRegistry', () => {
  it('binds an id to the session that published it first', () => {
    const registry = new AwarenessRegistry()
    const alice = {}
    const mallory = {}
    registry.apply(alice, [{ clientId: 1, clock: 1, state: state('Alice') }])
    const result = registry.apply(mallory, [{ clientId: 1, clock: 9, state: state('Mallory') }])
    expect(result).toMatchObject({ accepted: [], rejected: 'owned-by-another-session' })
    expect(registry.snapshot()).toEqual([{ clientId: 1, clock: 1, state: state('Alice') }])
  })

  it('publishes removals with an advanced clock when the session ends', () => {
    const registry = new AwarenessRegistry()
    const session = {}
    registry.apply(session, [{ clientId: 1, clock: 4, state: state('A') }])
    expect(registry.release(session)).toEqual([{ clientId: 1, clock: 5, state: null }])
    expect(registry.size).toBe(0)
  })

  it('caps the ids one session may own', () => {
    const registry = new AwarenessRegistry()
    const session = {}
    const entries = Array.from({ length: MAX_AWARENESS_IDS_PER_SESSION + 2 }, (_, i) => ({
      clientId: i + 1,
      clock: 1,
      state: state(`c${i}`),
    }))
    expect(registry.apply(session, entries).rejected).toBe('too-many-ids')
    expect(registry.size).toBe(MAX_AWARENESS_IDS_PER_SESSION)
  })

  it("keeps another node's entry from local sessions: echoes and hijacks alike", () => {
    const registry = new AwarenessRegistry()
    registry.applyRemote('node-b', [{ clientId: 7, clock: 3, state: state('Bea') }])
    const localClient = {}
    // y-websocket clients echo what they heard, with the clock they heard.
    expect(
      registry.apply(localClient, [{ clientId: 7, clock: 3, state: state('Bea') }]).accepted,
    ).toEqual([])
    // A higher clock does not take it over either: that is how a hijack looks.
    const hijack = registry.apply(localClient, [{ clientId: 7, clock: 9, state: state('EVIL') }])
    expect(hijack).toMatchObject({ accepted: [], rejected: 'owned-by-another-session' })
    // Node B's own removal still applies.
    expect(registry.applyRemote('node-b', [{ clientId: 7, clock: 4, state: null }])).toHaveLength(1)
  })
})
