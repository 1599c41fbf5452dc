/** The owner's sharing dialog: who has access, add someone by email, remove someone. */
import { type FormEvent, type ReactElement, useCallback, useEffect, useState } from 'react'
import {
  addOrganisationMember,
  listMembers,
  removeMember,
  shareDocument,
} from '../api/endpoints.js'
import { DOCUMENT_ROLES, type DocumentMember, type DocumentRole } from '../api/types.js'
import { Dialog } from './Dialog.js'

export const ShareDialog = ({
  docId,
  selfId,
  organisation,
  onClose,
}: {
  docId: string
  selfId: string
  /** The document's organisation, when the person is one of its admins. */
  organisation: { id: string; name: string } | null
  onClose: () => void
}): ReactElement => {
  const [members, setMembers] = useState<readonly DocumentMember[] | null>(null)
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<DocumentRole>('editor')
  const [error, setError] = useState<string | null>(null)
  const [isBusy, setIsBusy] = useState(false)
  /** An email that is not in the organisation yet, which an admin may add. */
  const [outsider, setOutsider] = useState<string | null>(null)

  const load = useCallback(async (): Promise<void> => {
    const result = await listMembers(docId)
    if (result.ok) setMembers(result.data.members)
    else setError(result.status === 0 ? 'You are offline.' : result.error)
  }, [docId])

  useEffect(() => void load(), [load])

  const share = async (address: string): Promise<void> => {
    setIsBusy(true)
    setError(null)
    setOutsider(null)
    const result = await shareDocument(docId, address, role)
    setIsBusy(false)
    if (result.ok) {
      setEmail('')
      await load()
    } else if (result.status === 404 && organisation !== null) {
      setOutsider(address)
    } else {
      setError(
        result.status === 404
          ? 'No one in this organisation has that email. Ask an admin to add them first.'
          : result.error,
      )
    }
  }

  const handleAdd = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault()
    void share(email.trim())
  }

  // Sharing needs organisation membership; adding someone to it is a
  // separate, visible decision, never a side effect of sharing.
  const handleAddToOrganisation = async (address: string): Promise<void> => {
    if (organisation === null) return
    const added = await addOrganisationMember(organisation.id, address, 'member')
    if (!added.ok) {
      setOutsider(null)
      setError(added.status === 404 ? 'No Quire account has this email yet.' : added.error)
      return
    }
    await share(address)
  }

  const handleRemove = async (member: DocumentMember): Promise<void> => {
    const result = await removeMember(docId, member.id)
    if (!result.ok) setError(result.error)
    await load()
  }

  const handleRoleChange = async (member: DocumentMember, next: DocumentRole): Promise<void> => {
    if (member.email === undefined) return
    const result = await shareDocument(docId, member.email, next)
    if (!result.ok) setError(result.error)
    await load()
  }

  return (
    <Dialog title="Share" onClose={onClose} className="dialog-wide">
      <form className="share-form" onSubmit={handleAdd}>
        <label className="field share-email">
          <span>Email</span>
          <input
            type="email"
            required
            placeholder="name@example.com"
            value={email}
            autoFocus
            onChange={(event) => setEmail(event.target.value)}
          />
        </label>
        <label className="field share-role">
          <span>Role</span>
          <select value={role} onChange={(event) => setRole(event.target.value as DocumentRole)}>
            {DOCUMENT_ROLES.map((option) => (
              <option key={option} value={option}>
                {labelOf(option)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button button-primary" disabled={isBusy}>
          Add
        </button>
      </form>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {outsider !== null && organisation !== null && (
        <div className="share-outsider" role="alert">
          <p>
            {outsider} is not a member of {organisation.name}. Add them to the organisation and
            share this document?
          </p>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => setOutsider(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="button button-primary"
              onClick={() => void handleAddToOrganisation(outsider)}
            >
              Add and share
            </button>
          </div>
        </div>
      )}
      <h3 className="share-subtitle">People with access</h3>
      {members === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <ul className="member-list" aria-label="People with access">
          {members.map((member) => {
            const label = member.name ?? member.email ?? member.id
            return (
              <li key={member.id} className="member-row" data-testid="member-row">
                <span className="member-who">
                  <span className="member-name">
                    {label}
                    {member.id === selfId ? ' (you)' : ''}
                  </span>
                  {member.email !== undefined && <span className="muted">{member.email}</span>}
                </span>
                <select
                  aria-label={`Role of ${label}`}
                  value={member.role}
                  disabled={member.id === selfId}
                  onChange={(event) =>
                    void handleRoleChange(member, event.target.value as DocumentRole)
                  }
                >
                  {DOCUMENT_ROLES.map((option) => (
                    <option key={option} value={option}>
                      {labelOf(option)}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  className="button button-quiet button-danger-text"
                  aria-label={`Remove ${label}`}
                  disabled={member.id === selfId}
                  onClick={() => void handleRemove(member)}
                >
                  Remove
                </button>
              </li>
            )
          })}
        </ul>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  )
}

const labelOf = (role: DocumentRole): string => `${role[0]?.toUpperCase() ?? ''}${role.slice(1)}`
