/** The documents of the person's organisations: search, create, rename, delete; and sign-out. */
import {
  type ChangeEvent,
  type FormEvent,
  type ReactElement,
  useCallback,
  useEffect,
  useState,
} from 'react'
import {
  createDocument,
  deleteDocument,
  importDocument,
  listDocuments,
  renameDocument,
  signOut,
} from '../api/endpoints.js'
import { canEdit, type DocumentInfo, MAX_TITLE_LENGTH } from '../api/types.js'
import { AppHeader } from '../components/AppHeader.js'
import { ConfirmDialog, Dialog } from '../components/Dialog.js'
import { Link } from '../components/Link.js'
import { navigate } from '../router.js'
import { meOf, useSession } from '../session.js'
import { clearOfflineData } from '../sync/offline-cache.js'
import { importTitleOf } from './import-title.js'

/** Largest file sent to the import, bytes: the server's limit (1 MiB), checked here first. */
const MAX_IMPORT_BYTES = 1024 * 1024

/** Wait after the last keystroke before searching, in ms. */
const SEARCH_DEBOUNCE_MS = 200

type ListState =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly documents: readonly DocumentInfo[] }
  | { readonly status: 'error'; readonly message: string }

export const DocumentsPage = (): ReactElement => {
  const { session, markSignedOut } = useSession()
  const me = meOf(session)
  const organisations = me?.organisations ?? []
  const [orgId, setOrgId] = useState<string | null>(null)
  const [query, setQuery] = useState('')
  const [list, setList] = useState<ListState>({ status: 'loading' })
  const [renaming, setRenaming] = useState<DocumentInfo | null>(null)
  const [deleting, setDeleting] = useState<DocumentInfo | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const activeOrgId = orgId ?? organisations[0]?.id ?? null

  const load = useCallback(async (): Promise<void> => {
    if (activeOrgId === null) return
    const result = await listDocuments(activeOrgId, query.trim())
    if (result.ok) setList({ status: 'ready', documents: sortByUpdated(result.data.documents) })
    else if (result.status !== 401)
      setList({
        status: 'error',
        message:
          result.status === 0 ? 'You are offline; documents cannot be listed.' : result.error,
      })
  }, [activeOrgId, query])

  useEffect(() => {
    const timer = setTimeout(() => void load(), SEARCH_DEBOUNCE_MS)
    return () => clearTimeout(timer)
  }, [load])

  const handleCreate = async (): Promise<void> => {
    if (activeOrgId === null) return
    const result = await createDocument(activeOrgId, 'Untitled')
    if (result.ok) navigate(`/d/${result.data.id}`)
    else setNotice(`Could not create a document: ${result.error}`)
  }

  const handleImport = async (event: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const input = event.currentTarget
    const file = input.files?.[0]
    input.value = ''
    if (file === undefined || activeOrgId === null) return
    const format = /\.(md|markdown)$/i.test(file.name) ? 'markdown' : 'html'
    if (!/\.(md|markdown|html?)$/i.test(file.name)) {
      setNotice('Import takes HTML (.html) or Markdown (.md) files.')
      return
    }
    if (file.size > MAX_IMPORT_BYTES) {
      setNotice(`“${file.name}” is too large to import (at most 1 MB).`)
      return
    }
    const content = await file.text()
    const title = importTitleOf(file.name, format, content)
    const result = await importDocument({
      orgId: activeOrgId,
      ...(title === undefined ? {} : { title }),
      format,
      content,
    })
    if (result.ok) navigate(`/d/${result.data.id}`)
    else setNotice(`Could not import “${file.name}”: ${result.error}`)
  }

  const handleDelete = async (document: DocumentInfo): Promise<void> => {
    setDeleting(null)
    const result = await deleteDocument(document.id)
    if (!result.ok) setNotice(`Could not delete “${document.title}”: ${result.error}`)
    await load()
  }

  const handleSignOut = async (): Promise<void> => {
    await signOut()
    await clearOfflineData()
    markSignedOut()
    navigate('/signin', { replace: true })
  }

  return (
    <>
      <AppHeader>
        <div className="header-spacer" />
        {me !== null && <span className="header-user">{me.user.name}</span>}
        <button type="button" className="button button-quiet" onClick={() => void handleSignOut()}>
          Sign out
        </button>
      </AppHeader>
      <main className="documents-page">
        <div className="documents-head">
          <h1>Documents</h1>
          <div className="documents-actions">
            <label className="button file-button">
              Import…
              <input
                type="file"
                className="visually-hidden"
                accept=".html,.htm,.md,.markdown,text/html,text/markdown"
                aria-label="Import an HTML or Markdown file"
                data-testid="import-file"
                disabled={activeOrgId === null}
                onChange={(event) => void handleImport(event)}
              />
            </label>
            <button
              type="button"
              className="button button-primary"
              onClick={() => void handleCreate()}
              disabled={activeOrgId === null}
            >
              New document
            </button>
          </div>
        </div>
        <div className="documents-tools">
          {organisations.length > 1 && (
            <label className="field field-inline">
              <span>Organisation</span>
              <select value={activeOrgId ?? ''} onChange={(event) => setOrgId(event.target.value)}>
                {organisations.map((org) => (
                  <option key={org.id} value={org.id}>
                    {org.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <input
            type="search"
            className="search"
            placeholder="Search by title"
            aria-label="Search documents by title"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
        </div>
        {notice !== null && (
          <p className="form-error" role="alert">
            {notice}
          </p>
        )}
        <DocumentList list={list} query={query} onRename={setRenaming} onDelete={setDeleting} />
      </main>
      {renaming !== null && (
        <RenameDialog
          document={renaming}
          onClose={() => setRenaming(null)}
          onRenamed={() => {
            setRenaming(null)
            void load()
          }}
        />
      )}
      {deleting !== null && (
        <ConfirmDialog
          title="Delete document?"
          message={`“${deleting.title}” will be deleted for everyone it is shared with.`}
          confirmLabel="Delete"
          onClose={() => setDeleting(null)}
          onConfirm={() => void handleDelete(deleting)}
        />
      )}
    </>
  )
}

const DocumentList = ({
  list,
  query,
  onRename,
  onDelete,
}: {
  list: ListState
  query: string
  onRename: (document: DocumentInfo) => void
  onDelete: (document: DocumentInfo) => void
}): ReactElement => {
  if (list.status === 'loading') return <p className="muted">Loading…</p>
  if (list.status === 'error') return <p className="form-error">{list.message}</p>
  if (list.documents.length === 0) {
    return (
      <p className="empty">
        {query.trim() === ''
          ? 'No documents yet. Create one to start writing.'
          : 'No titles match.'}
      </p>
    )
  }
  return (
    <ul className="document-list" aria-label="Documents">
      {list.documents.map((document) => (
        <li key={document.id} className="document-row" data-testid="document-row">
          <Link to={`/d/${document.id}`} className="document-link">
            <span className="document-title">{document.title}</span>
            <span className="document-meta">
              {roleLabel(document.role)} · edited {formatDate(document.updatedAt)}
            </span>
          </Link>
          <div className="row-actions">
            {canEdit(document.role) && (
              <button
                type="button"
                className="button button-quiet"
                aria-label={`Rename ${document.title}`}
                onClick={() => onRename(document)}
              >
                Rename
              </button>
            )}
            {document.role === 'owner' && (
              <button
                type="button"
                className="button button-quiet button-danger-text"
                aria-label={`Delete ${document.title}`}
                onClick={() => onDelete(document)}
              >
                Delete
              </button>
            )}
          </div>
        </li>
      ))}
    </ul>
  )
}

const RenameDialog = ({
  document,
  onClose,
  onRenamed,
}: {
  document: DocumentInfo
  onClose: () => void
  onRenamed: () => void
}): ReactElement => {
  const [title, setTitle] = useState(document.title)
  const [error, setError] = useState<string | null>(null)

  const handleSubmit = async (event: FormEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault()
    const result = await renameDocument(document.id, title.trim())
    if (result.ok) onRenamed()
    else setError(result.error)
  }

  return (
    <Dialog title="Rename document" onClose={onClose}>
      <form onSubmit={(event) => void handleSubmit(event)}>
        <label className="field">
          <span>Title</span>
          <input
            value={title}
            required
            maxLength={MAX_TITLE_LENGTH}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
          />
        </label>
        {error !== null && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary">
            Rename
          </button>
        </div>
      </form>
    </Dialog>
  )
}

const sortByUpdated = (documents: readonly DocumentInfo[]): DocumentInfo[] =>
  [...documents].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))

const roleLabel = (role: DocumentInfo['role']): string =>
  `${role[0]?.toUpperCase() ?? ''}${role.slice(1)}`

const formatDate = (iso: string): string => {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return 'recently'
  const sameDay = date.toDateString() === new Date().toDateString()
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })
}
