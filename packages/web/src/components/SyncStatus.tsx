/**
 * The connection and save indicators in the editor header. Both are live
 * regions (`role="status"`), so screen readers hear changes, and tests find
 * them by their labels "Connection" and "Save status".
 */
import type { ReactElement } from 'react'
import type { SyncSnapshot } from '../sync/document-sync.js'

const CONNECTION_TEXT: Record<SyncSnapshot['connection'], string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  stopped: 'Disconnected',
}

export const SyncStatus = ({ snapshot }: { snapshot: SyncSnapshot }): ReactElement => {
  const save = saveText(snapshot)
  return (
    <div className="sync-status">
      <span
        role="status"
        aria-label="Connection"
        data-testid="connection-status"
        data-state={snapshot.connection}
        className={`status-pill status-${snapshot.connection}`}
      >
        <span className="status-dot" aria-hidden="true" />
        {CONNECTION_TEXT[snapshot.connection]}
      </span>
      <span
        role="status"
        aria-label="Save status"
        data-testid="save-status"
        data-state={snapshot.isSaved ? 'saved' : 'unsaved'}
        data-local={snapshot.isStoredLocally ? 'stored' : 'pending'}
        className="save-status"
      >
        {save}
      </span>
    </div>
  )
}

const saveText = ({ isSaved, isStoredLocally, connection }: SyncSnapshot): string => {
  if (isSaved) return 'Saved'
  if (connection === 'connected') return 'Saving…'
  // Kept on this device: it reaches the server when the connection returns.
  if (isStoredLocally) return 'Saved on this device'
  if (connection === 'offline') return 'Not saved yet (offline)'
  return 'Not saved yet'
}
