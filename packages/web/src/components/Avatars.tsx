/**
 * Everyone who has the document open, from awareness. The server stamps
 * each state's `user` with the id and name it knows (SPEC AUTH-3), so names
 * here cannot be forged by another client; the colour is the client's.
 */
import { type ReactElement, useEffect, useState } from 'react'
import type { Awareness } from 'y-protocols/awareness'
import { colorForUser, initialsOf } from '../sync/user-color.js'

interface Person {
  readonly key: string
  readonly name: string
  readonly color: string
  readonly isSelf: boolean
}

/** Show at most this many avatars; the rest are counted. */
const MAX_SHOWN = 5

export const Avatars = ({
  awareness,
  self,
}: {
  awareness: Awareness
  self: { id: string; name: string }
}): ReactElement => {
  const [people, setPeople] = useState<readonly Person[]>(() => collectPeople(awareness, self))

  const { id, name } = self
  useEffect(() => {
    const handleChange = (): void => setPeople(collectPeople(awareness, { id, name }))
    handleChange()
    awareness.on('change', handleChange)
    return () => awareness.off('change', handleChange)
  }, [awareness, id, name])

  const shown = people.slice(0, MAX_SHOWN)
  const hidden = people.length - shown.length
  return (
    <ul className="avatars" aria-label="People in this document" data-testid="avatars">
      {shown.map((person) => (
        <li key={person.key} className="avatar-item" data-testid="avatar" data-name={person.name}>
          <span
            role="img"
            className="avatar"
            title={person.isSelf ? `${person.name} (you)` : person.name}
            aria-label={person.isSelf ? `${person.name} (you)` : person.name}
            style={{ backgroundColor: person.color }}
          >
            <span aria-hidden="true">{initialsOf(person.name)}</span>
          </span>
        </li>
      ))}
      {hidden > 0 && (
        <li className="avatar-item">
          <span role="img" className="avatar avatar-more" aria-label={`${hidden} more`}>
            +{hidden}
          </span>
        </li>
      )}
    </ul>
  )
}

/** One entry per person (several tabs of one person show once), self first. */
const collectPeople = (awareness: Awareness, self: { id: string; name: string }): Person[] => {
  const byKey = new Map<string, Person>()
  byKey.set(self.id, { key: self.id, name: self.name, color: colorForUser(self.id), isSelf: true })
  for (const [clientId, state] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue
    const user = (state as { user?: unknown }).user
    if (typeof user !== 'object' || user === null) continue
    const { id, name, color } = user as { id?: unknown; name?: unknown; color?: unknown }
    const key = typeof id === 'string' ? id : `client-${clientId}`
    if (byKey.has(key)) continue
    byKey.set(key, {
      key,
      name: typeof name === 'string' && name !== '' ? name : 'Someone',
      color: typeof color === 'string' && /^#[0-9a-f]{6}$/i.test(color) ? color : '#64748b',
      isSelf: false,
    })
  }
  return [...byKey.values()]
}
