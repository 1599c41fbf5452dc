import { describe, expect, it, vi } from 'vitest'
import {
  AwarenessRegistry,
  MAX_AWARENESS_IDS_PER_SESSION,
  REMOTE_AWARENESS_TTL_MS,
} from './awareness-registry.js'

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

  it("publishes removals at the state's clock when the session ends", () => {
    const registry = new AwarenessRegistry()
    const session = {}
    registry.apply(session, [{ clientId: 1, clock: 4, state: state('A') }])
    expect(registry.release(session)).toEqual([{ clientId: 1, clock: 4, state: null }])
    expect(registry.size).toBe(0)
  })

  it('gives a departed id back to its returning client, never to an echo', () => {
    const registry = new AwarenessRegistry()
    const bob = {}
    const alice = {}
    registry.apply(bob, [{ clientId: 2, clock: 3, state: state('Bob') }])
    registry.release(bob)
    // Alice's provider echoes the removal it heard, then (late) Bob's last state.
    expect(registry.apply(alice, [{ clientId: 2, clock: 3, state: null }])).toEqual({
      accepted: [],
      rejected: null,
    })
    expect(registry.apply(alice, [{ clientId: 2, clock: 3, state: state('Bob') }])).toEqual({
      accepted: [],
      rejected: null,
    })
    // Bob reconnects and renews his state: his id is his again.
    const bobAgain = {}
    const back = registry.apply(bobAgain, [{ clientId: 2, clock: 4, state: state('Bob') }])
    expect(back).toEqual({
      accepted: [{ clientId: 2, clock: 4, state: state('Bob') }],
      rejected: null,
    })
    // ... and only his.
    expect(registry.apply(alice, [{ clientId: 2, clock: 9, state: state('x') }]).rejected).toBe(
      'owned-by-another-session',
    )
    expect(registry.snapshot()).toEqual([{ clientId: 2, clock: 4, state: state('Bob') }])
  })

  it('lets a departed id return through another node', () => {
    const registry = new AwarenessRegistry()
    const bob = {}
    registry.apply(bob, [{ clientId: 2, clock: 3, state: state('Bob') }])
    registry.release(bob)
    expect(
      registry.applyRemote('node-b', [{ clientId: 2, clock: 3, state: state('Bob') }]),
    ).toEqual([])
    expect(
      registry.applyRemote('node-b', [{ clientId: 2, clock: 4, state: state('Bob') }]),
    ).toEqual([{ clientId: 2, clock: 4, state: state('Bob') }])
  })

  it('forgets removals once clients have forgotten them', () => {
    vi.useFakeTimers()
    try {
      const registry = new AwarenessRegistry()
      const sessions = Array.from({ length: 50 }, () => ({}))
      sessions.forEach((session, i) =>
        registry.apply(session, [{ clientId: i, clock: 1, state: state(`c${i}`) }]),
      )
      for (const session of sessions) registry.release(session)
      vi.advanceTimersByTime(REMOTE_AWARENESS_TTL_MS + 1)
      // The next release sweeps what is older than the TTL.
      const last = {}
      registry.apply(last, [{ clientId: 999, clock: 1, state: state('last') }])
      registry.release(last)
      const late = {}
      // An old id is free again, with any clock.
      expect(
        registry.apply(late, [{ clientId: 0, clock: 1, state: state('new') }]).accepted,
      ).toHaveLength(1)
    } finally {
      vi.useRealTimers()
    }
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
