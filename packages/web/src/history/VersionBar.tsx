/**
 * The bar above a version shown read-only: which version, how to show it
 * (as it was, its changes since the version before, or who wrote what),
 * restoring it (owners and editors), and the way back to the live document.
 */
import { type ReactElement, useId, useState } from 'react'
import { restoreVersion } from '../api/endpoints.js'
import { ConfirmDialog } from '../components/Dialog.js'
import type { ViewedVersion } from './HistoryPanel.js'
import type { VersionMode } from './VersionView.js'

const MODES: readonly { readonly mode: VersionMode; readonly label: string }[] = [
  { mode: 'plain', label: 'As it was' },
  { mode: 'changes', label: 'Changes since the version before' },
  { mode: 'authors', label: 'Who wrote what' },
]

export const VersionBar = ({
  docId,
  version,
  mode,
  canRestore,
  onMode,
  onBack,
  onRestored,
}: {
  docId: string
  version: ViewedVersion
  mode: VersionMode
  canRestore: boolean
  onMode: (mode: VersionMode) => void
  onBack: () => void
  onRestored: () => void
}): ReactElement => {
  const [isConfirming, setIsConfirming] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const groupName = useId()

  const handleRestore = async (): Promise<void> => {
    setIsConfirming(false)
    const result = await restoreVersion(docId, version.seq)
    if (result.ok) onRestored()
    else setError(result.status === 0 ? 'Restoring needs a connection.' : result.error)
  }

  return (
    <div className="version-bar" role="region" aria-label="Version shown">
      <div className="version-bar-title">
        <strong data-testid="viewed-version">{version.label}</strong>
        <span className="muted"> · read-only</span>
      </div>
      <fieldset className="version-modes">
        <legend className="visually-hidden">Show</legend>
        {MODES.map(({ mode: value, label }) => (
          <label key={value} className="version-mode">
            <input
              type="radio"
              name={groupName}
              value={value}
              checked={mode === value}
              onChange={() => onMode(value)}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <div className="version-actions">
        {canRestore && (
          <button
            type="button"
            className="button button-primary"
            onClick={() => setIsConfirming(true)}
          >
            Restore this version
          </button>
        )}
        <button type="button" className="button" onClick={onBack}>
          Back to the document
        </button>
      </div>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {isConfirming && (
        <ConfirmDialog
          title="Restore this version?"
          message="Its content replaces the current content for everyone, as a new edit. The current content stays in history, so this can be undone by restoring again."
          confirmLabel="Restore"
          onClose={() => setIsConfirming(false)}
          onConfirm={() => void handleRestore()}
        />
      )}
    </div>
  )
}
