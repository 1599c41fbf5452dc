/**
 * The history side panel of a document: its versions (automatic
 * checkpoints and named versions, newest first, each with the people who
 * edited since the one before), a form to save the current state as a named
 * version, and a slider over every stored update to scrub through history.
 * Choosing a version or a point shows it read-only in the main area
 * (`VersionView`); restoring happens from there.
 */
import {
  type FormEvent,
  type ReactElement,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
} from 'react'
import { listVersions, saveVersion } from '../api/endpoints.js'
import type { VersionEditor, VersionList, VersionSummary } from '../api/types.js'
import { colorForUser, initialsOf } from '../sync/user-color.js'

/** A point in history the main area shows. */
export interface ViewedVersion {
  readonly seq: number
  /** The version before it, compared against when showing changes (0: the empty document). */
  readonly since: number
  readonly label: string
}

/** Wait after the slider stops moving before loading that state, ms. */
const SCRUB_DEBOUNCE_MS = 150
/** How often an open panel refreshes the list, ms. */
const REFRESH_INTERVAL_MS = 5_000
/** Screens on which the panel sits below the editor (as in styles.css). */
const NARROW_LAYOUT_QUERY = '(max-width: 900px)'
/** Longest version name the server accepts. */
const MAX_VERSION_NAME_LENGTH = 200

export const HistoryPanel = ({
  id,
  docId,
  canSave,
  viewed,
  onView,
  onClose,
}: {
  /** The panel element's id, for the toggle's `aria-controls`. */
  id: string
  docId: string
  canSave: boolean
  viewed: ViewedVersion | null
  onView: (version: ViewedVersion | null) => void
  /** Close the panel (its button, or Escape inside it). */
  onClose: () => void
}): ReactElement => {
  const [list, setList] = useState<VersionList | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [scrubSeq, setScrubSeq] = useState<number | null>(null)
  const headingId = useId()
  const scrubTimer = useRef<ReturnType<typeof setTimeout> | null>(null)
  const panel = useRef<HTMLElement>(null)

  const refresh = useCallback(async (): Promise<void> => {
    const result = await listVersions(docId)
    if (result.ok) {
      setList(result.data)
      setError(null)
    } else if (result.status !== 401) {
      setError(result.status === 0 ? 'History needs a connection.' : result.error)
    }
  }, [docId])

  useEffect(() => {
    void refresh()
    const timer = setInterval(() => void refresh(), REFRESH_INTERVAL_MS)
    return () => clearInterval(timer)
  }, [refresh])
  // On narrow screens the panel is below the editor (styles.css): bring it
  // into sight when it opens, or the History button seems to do nothing.
  useEffect(() => {
    if (matchMedia(NARROW_LAYOUT_QUERY).matches) panel.current?.scrollIntoView({ block: 'start' })
  }, [])
  useEffect(
    () => () => {
      if (scrubTimer.current !== null) clearTimeout(scrubTimer.current)
    },
    [],
  )

  const versions = list?.versions ?? []
  const lastSeq = list?.lastSeq ?? 0
  const sinceFor = (seq: number): number => versions.find((v) => v.seq < seq)?.seq ?? 0

  // Back at the live document (after "Back", a restore, or choosing
  // "Current document"), the slider is at Now again and follows new updates.
  useEffect(() => {
    if (viewed === null) setScrubSeq(null)
  }, [viewed])

  const handleScrub = (seq: number): void => {
    setScrubSeq(seq)
    if (scrubTimer.current !== null) clearTimeout(scrubTimer.current)
    // Loading a state costs a request: load where the slider rests.
    scrubTimer.current = setTimeout(() => {
      // Resting at the end is Now: the slider follows updates that arrive.
      if (seq === lastSeq) setScrubSeq(null)
      onView(
        seq === lastSeq
          ? null
          : { seq, since: sinceFor(seq), label: `Update ${seq} of ${lastSeq}` },
      )
    }, SCRUB_DEBOUNCE_MS)
  }

  const sliderSeq = scrubSeq ?? viewed?.seq ?? lastSeq
  return (
    <aside
      ref={panel}
      id={id}
      className="history-panel"
      aria-labelledby={headingId}
      data-testid="history-panel"
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) onClose()
      }}
    >
      <div className="history-head">
        <h2 id={headingId}>History</h2>
        <button type="button" className="button button-quiet" onClick={onClose}>
          Close history
        </button>
      </div>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {canSave && <SaveVersionForm docId={docId} onSaved={() => void refresh()} />}

      <div className="scrubber">
        <label className="field">
          <span>Scrub through history</span>
          <input
            type="range"
            min={0}
            max={Math.max(lastSeq, 0)}
            step={1}
            value={Math.min(sliderSeq, lastSeq)}
            disabled={lastSeq === 0}
            aria-valuetext={`Update ${Math.min(sliderSeq, lastSeq)} of ${lastSeq}`}
            data-testid="history-scrubber"
            onChange={(event) => handleScrub(Number(event.target.value))}
          />
        </label>
        <span
          className="muted scrubber-position"
          aria-live="polite"
          data-testid="scrubber-position"
        >
          {sliderSeq >= lastSeq ? 'Now' : `Update ${sliderSeq} of ${lastSeq}`}
        </span>
      </div>

      <h3 className="history-subtitle">Versions</h3>
      <ul className="version-list" aria-label="Versions">
        <li>
          <button
            type="button"
            className="version-item"
            aria-current={viewed === null ? 'true' : undefined}
            onClick={() => {
              setScrubSeq(null)
              onView(null)
            }}
          >
            <span className="version-name">Current document</span>
            <Editors editors={list?.current ?? []} />
          </button>
        </li>
        {versions.map((version, index) => (
          <li key={`${version.seq}-${version.createdAt}-${index}`}>
            <button
              type="button"
              className="version-item"
              data-testid="version-item"
              aria-current={viewed?.seq === version.seq ? 'true' : undefined}
              onClick={() => {
                setScrubSeq(version.seq)
                onView({ seq: version.seq, since: sinceFor(version.seq), label: labelOf(version) })
              }}
            >
              <span className="version-name">{version.name ?? 'Automatic version'}</span>
              <span className="version-time">{formatTime(version.createdAt)}</span>
              <Editors editors={version.editors} />
            </button>
          </li>
        ))}
      </ul>
      {list !== null && versions.length === 0 && (
        <p className="muted history-empty">
          No versions yet. Versions are saved automatically while people edit, or by name here.
        </p>
      )}
    </aside>
  )
}

const SaveVersionForm = ({
  docId,
  onSaved,
}: {
  docId: string
  onSaved: () => void
}): ReactElement => {
  const [name, setName] = useState('')
  const [status, setStatus] = useState<string | null>(null)
  const [isSaving, setIsSaving] = useState(false)

  const handleSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    const trimmed = name.trim()
    if (trimmed === '') return
    setIsSaving(true)
    const result = await saveVersion(docId, trimmed)
    setIsSaving(false)
    if (result.ok) {
      setName('')
      setStatus(`Saved “${trimmed}”.`)
      onSaved()
    } else {
      setStatus(result.status === 409 ? 'Nothing is stored yet to save.' : result.error)
    }
  }

  return (
    <form className="save-version" onSubmit={(event) => void handleSubmit(event)}>
      <label className="field">
        <span>Version name</span>
        <input
          value={name}
          maxLength={MAX_VERSION_NAME_LENGTH}
          placeholder="e.g. Sent for review"
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      <button type="submit" className="button" disabled={isSaving || name.trim() === ''}>
        Save version
      </button>
      <span className="muted save-version-status" role="status">
        {status}
      </span>
    </form>
  )
}

/** Who edited in a version: small avatars and their names. */
const Editors = ({ editors }: { editors: readonly VersionEditor[] }): ReactElement | null => {
  if (editors.length === 0) return null
  const names = editors.map((editor) => editor.name ?? 'Former member')
  return (
    <span className="version-editors">
      <span className="version-avatars" aria-hidden="true">
        {editors.slice(0, 4).map((editor) => (
          <span
            key={editor.id}
            className="avatar avatar-small"
            style={{ backgroundColor: colorForUser(editor.id) }}
          >
            {initialsOf(editor.name ?? '?')}
          </span>
        ))}
      </span>
      <span className="version-editor-names">{names.join(', ')}</span>
    </span>
  )
}

const labelOf = (version: VersionSummary): string =>
  `${version.name ?? 'Automatic version'} · ${formatTime(version.createdAt)}`

const formatTime = (iso: string): string => {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return ''
  const sameDay = date.toDateString() === new Date().toDateString()
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
