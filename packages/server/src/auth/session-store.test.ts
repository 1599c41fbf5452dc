import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEmbeddedStore, type SqlDocumentStore } from '../store/index.js'
import { Accounts } from './accounts.js'
import { SessionStore } from './session-store.js'

describe('SessionStore', () => {
  let dir: string
  let store: SqlDocumentStore
  let userId: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-sessions-'))
    store = await openEmbeddedStore({ dataDir: dir, logger: pino({ level: 'silent' }) })
    const created = await new Accounts(store.sql).createUser('s@example.test', 'S', 'hash')
    userId = created?.user.id ?? ''
  })
  afterAll(async () => {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  const sessions = (rotationGraceMs: number): SessionStore =>
    new SessionStore(store.sql, { refreshTokenTtlS: 3600, refreshIdleTtlS: 3600, rotationGraceMs })

  it('treats any retired token of a family as reuse, not only the latest one, and revokes the family', async () => {
    const store = sessions(0)
    const { refreshToken: first } = await store.create(userId)
    const second = await store.refresh(first)
    if (!second.ok || second.refreshToken === null) throw new Error('first rotation failed')
    const third = await store.refresh(second.refreshToken)
    if (!third.ok || third.refreshToken === null) throw new Error('second rotation failed')

    // The oldest token, two rotations back, comes back: a stolen copy.
    const reuse = await store.refresh(first)
    expect(reuse).toMatchObject({ ok: false, reason: 'reused' })
    // The family is gone: its newest token no longer works.
    expect(await store.refresh(third.refreshToken)).toMatchObject({ ok: false, reason: 'revoked' })
  })

  it('lets the latest predecessor through during the grace window, without a second successor', async () => {
    const store = sessions(60_000)
    const { refreshToken } = await store.create(userId)
    const rotated = await store.refresh(refreshToken)
    expect(rotated).toMatchObject({ ok: true })
    expect(await store.refresh(refreshToken)).toMatchObject({ ok: true, refreshToken: null })
  })
})
