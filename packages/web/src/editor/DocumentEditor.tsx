/** The editing view of one open document. */
import { EditorContent, useEditor } from '@tiptap/react'
import { type ReactElement, useEffect, useId, useMemo, useRef, useState } from 'react'
import { renameDocument } from '../api/endpoints.js'
import { canEdit, type DocumentInfo, MAX_TITLE_LENGTH, type Me } from '../api/types.js'
import { AppHeader } from '../components/AppHeader.js'
import { Avatars } from '../components/Avatars.js'
import { ShareDialog } from '../components/ShareDialog.js'
import { SyncStatus } from '../components/SyncStatus.js'
import type { DocumentSync, SyncProblem } from '../sync/document-sync.js'
import { cachedDocumentKey, deleteDocumentCache, storeCachedJson } from '../sync/offline-cache.js'
import { useSyncSnapshot } from '../sync/use-document-sync.js'
import { colorForUser } from '../sync/user-color.js'
import { HistoryPanel, type ViewedVersion } from '../history/HistoryPanel.js'
import { VersionBar } from '../history/VersionBar.js'
import { type VersionMode, VersionView } from '../history/VersionView.js'
import { createEditorExtensions } from './editor-extensions.js'
import { ExportMenu } from './ExportMenu.js'
import { LinkDialog } from './LinkDialog.js'
import { Toolbar } from './Toolbar.js'

export const DocumentEditor = ({
  sync,
  info,
  me,
  onGone,
  onSignedOut,
}: {
  sync: DocumentSync
  info: DocumentInfo
  me: Me
  onGone: () => void
  onSignedOut: () => void
}): ReactElement => {
  const snapshot = useSyncSnapshot(sync)
  const [isLinkDialogOpen, setIsLinkDialogOpen] = useState(false)
  const [isShareOpen, setIsShareOpen] = useState(false)
  const [hasContentError, setHasContentError] = useState(false)
  const [isHistoryOpen, setIsHistoryOpen] = useState(false)
  const [viewed, setViewed] = useState<ViewedVersion | null>(null)
  const [versionMode, setVersionMode] = useState<VersionMode>('plain')
  const [historyNotice, setHistoryNotice] = useState<string | null>(null)
  const historyPanelId = useId()
  const historyButton = useRef<HTMLButtonElement>(null)
  const { problem } = snapshot
  const isReadOnly =
    !canEdit(info.role) ||
    problem?.kind === 'read-only' ||
    problem?.kind === 'too-old' ||
    hasContentError
  const user = useMemo(
    () => ({ name: me.user.name, color: colorForUser(me.user.id) }),
    [me.user.name, me.user.id],
  )

  const editor = useEditor(
    {
      extensions: createEditorExtensions(sync.doc, sync.provider, user),
      editable: !isReadOnly,
      // TipTap would add its base CSS as an inline <style>, which the
      // server's CSP refuses; styles.css carries the same rules.
      injectCSS: false,
      // Content this editor's schema does not know (a newer Quire wrote it)
      // stops syncing instead of being silently dropped.
      enableContentCheck: true,
      onContentError: ({ disableCollaboration }) => {
        disableCollaboration()
        setHasContentError(true)
      },
      shouldRerenderOnTransaction: false,
      editorProps: {
        attributes: {
          'aria-label': 'Document content',
          'aria-multiline': 'true',
          role: 'textbox',
          'data-testid': 'editor',
          class: 'document-body',
        },
      },
    },
    [sync],
  )

  useEffect(() => {
    editor.setEditable(!isReadOnly)
  }, [editor, isReadOnly])

  useEffect(() => {
    if (problem?.kind === 'gone') onGone()
    if (problem?.kind === 'signed-out') onSignedOut()
  }, [problem, onGone, onSignedOut])

  return (
    <div className="editor-page">
      <AppHeader className="editor-header">
        <DocumentTitle info={info} isEditable={canEdit(info.role)} />
        <div className="header-spacer" />
        <Avatars awareness={sync.provider.awareness} self={me.user} />
        <SyncStatus snapshot={snapshot} />
        <div className="header-actions">
          <ExportMenu docId={info.id} title={info.title} />
          <button
            ref={historyButton}
            type="button"
            className="button"
            aria-expanded={isHistoryOpen}
            aria-controls={historyPanelId}
            onClick={() => {
              setIsHistoryOpen((open) => !open)
              setViewed(null)
            }}
          >
            History
          </button>
        </div>
        {info.role === 'owner' && (
          <button
            type="button"
            className="button button-primary header-share"
            onClick={() => setIsShareOpen(true)}
          >
            Share
          </button>
        )}
      </AppHeader>
      <ProblemBanner problem={problem} hasContentError={hasContentError} docId={info.id} />
      {!canEdit(info.role) && (
        <p className="notice" role="note">
          You can view this document{info.role === 'commenter' ? ' and its comments' : ''}, but not
          edit it.
        </p>
      )}
      {historyNotice !== null && (
        <p className="notice" role="status">
          {historyNotice}
        </p>
      )}
      <div className="editor-layout">
        <div className="editor-column">
          {viewed !== null && (
            <>
              <VersionBar
                docId={info.id}
                version={viewed}
                mode={versionMode}
                canRestore={canEdit(info.role) && !isReadOnly}
                onMode={setVersionMode}
                onBack={() => setViewed(null)}
                onRestored={() => {
                  setHistoryNotice(`Restored ${viewed.label}. Everyone sees it now.`)
                  setViewed(null)
                }}
              />
              <main className="editor-main">
                <VersionView
                  docId={info.id}
                  seq={viewed.seq}
                  since={viewed.since}
                  mode={versionMode}
                />
              </main>
            </>
          )}
          {/* The live editor stays mounted while a version is shown: it keeps syncing. */}
          <div hidden={viewed !== null}>
            <div className="toolbar-wrap">
              <Toolbar
                editor={editor}
                isDisabled={isReadOnly}
                onOpenLinkDialog={() => setIsLinkDialogOpen(true)}
              />
            </div>
            <main className="editor-main">
              <EditorContent editor={editor} className="editor-content" />
            </main>
          </div>
        </div>
        {isHistoryOpen && (
          <HistoryPanel
            id={historyPanelId}
            docId={info.id}
            canSave={canEdit(info.role) && !isReadOnly}
            viewed={viewed}
            onView={(version) => {
              setHistoryNotice(null)
              setViewed(version)
            }}
            onClose={() => {
              setIsHistoryOpen(false)
              setViewed(null)
              historyButton.current?.focus()
            }}
          />
        )}
      </div>
      {isLinkDialogOpen && (
        <LinkDialog editor={editor} onClose={() => setIsLinkDialogOpen(false)} />
      )}
      {isShareOpen && (
        <ShareDialog
          docId={info.id}
          selfId={me.user.id}
          organisation={
            me.organisations.find((org) => org.id === info.orgId && org.role === 'admin') ?? null
          }
          onClose={() => setIsShareOpen(false)}
        />
      )}
    </div>
  )
}

/** The title: an input for owners and editors (renamed on Enter or leaving it), text otherwise. */
const DocumentTitle = ({
  info,
  isEditable,
}: {
  info: DocumentInfo
  isEditable: boolean
}): ReactElement => {
  const [saved, setSaved] = useState(info.title)
  const [draft, setDraft] = useState(info.title)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    document.title = `${saved} · Quire`
  }, [saved])

  const commit = async (): Promise<void> => {
    const title = draft.trim()
    if (title === '' || title === saved) {
      setDraft(saved)
      return
    }
    const result = await renameDocument(info.id, title)
    if (result.ok) {
      setSaved(result.data.title)
      setDraft(result.data.title)
      setError(null)
      storeCachedJson(cachedDocumentKey(info.id), result.data)
    } else {
      setDraft(saved)
      setError(result.status === 0 ? 'Renaming needs a connection.' : result.error)
    }
  }

  if (!isEditable) return <h1 className="doc-title doc-title-static">{saved}</h1>
  return (
    <div className="doc-title-wrap">
      <input
        className="doc-title"
        aria-label="Document title"
        value={draft}
        maxLength={MAX_TITLE_LENGTH}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={() => void commit()}
        onKeyDown={(event) => {
          if (event.key === 'Enter') event.currentTarget.blur()
          if (event.key === 'Escape') {
            setDraft(saved)
            event.currentTarget.blur()
          }
        }}
      />
      {error !== null && (
        <span className="title-error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}

const ProblemBanner = ({
  problem,
  hasContentError,
  docId,
}: {
  problem: SyncProblem | null
  hasContentError: boolean
  docId: string
}): ReactElement | null => {
  if (hasContentError || problem?.kind === 'too-old') {
    return (
      <Banner
        message="A newer version of Quire is available — reload to keep editing."
        action="Reload"
        onAction={() => location.reload()}
      />
    )
  }
  if (problem?.kind === 'read-only') {
    return (
      <Banner
        message="You can no longer edit this document. Changes made since your access changed were not saved."
        action="Reload"
        // The refused edits would be refused again: start from the server's copy.
        onAction={() => void deleteDocumentCache(docId).then(() => location.reload())}
      />
    )
  }
  if (problem?.kind === 'rejected') {
    return (
      <Banner
        message={`Syncing stopped: ${problem.reason}. Your changes are kept on this device.`}
        action="Reload"
        onAction={() => location.reload()}
      />
    )
  }
  return null
}

const Banner = ({
  message,
  action,
  onAction,
}: {
  message: string
  action: string
  onAction: () => void
}): ReactElement => (
  <div className="banner" role="alert">
    <span>{message}</span>
    <button type="button" className="button" onClick={onAction}>
      {action}
    </button>
  </div>
)
