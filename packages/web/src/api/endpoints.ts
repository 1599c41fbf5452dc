/** One function per API route the app uses (docs/API.md). */
import { type ApiResult, apiFetch, apiRequest } from './client.js'
import type {
  DocumentChanges,
  DocumentInfo,
  DocumentMember,
  DocumentRole,
  ExportFormat,
  ImportFormat,
  Me,
  User,
  VersionList,
} from './types.js'

export const signUp = (body: {
  email: string
  password: string
  name: string
}): Promise<ApiResult<{ user: User }>> => apiRequest('POST', '/api/auth/signup', body)

export const signIn = (body: {
  email: string
  password: string
}): Promise<ApiResult<{ user: User }>> => apiRequest('POST', '/api/auth/signin', body)

export const signOut = (): Promise<ApiResult<undefined>> => apiRequest('POST', '/api/auth/signout')

/** The signed-in person; 401 when nobody is, even after a refresh. */
export const fetchMe = (): Promise<ApiResult<Me>> => apiRequest('GET', '/api/auth/me')

export const listDocuments = (
  orgId: string,
  query: string,
): Promise<ApiResult<{ documents: DocumentInfo[] }>> =>
  apiRequest('GET', `/api/documents?${new URLSearchParams({ orgId, q: query }).toString()}`)

export const createDocument = (orgId: string, title: string): Promise<ApiResult<DocumentInfo>> =>
  apiRequest('POST', '/api/documents', { orgId, title })

export const getDocument = (id: string): Promise<ApiResult<DocumentInfo>> =>
  apiRequest('GET', `/api/documents/${encodeURIComponent(id)}`)

export const renameDocument = (id: string, title: string): Promise<ApiResult<DocumentInfo>> =>
  apiRequest('PATCH', `/api/documents/${encodeURIComponent(id)}`, { title })

export const deleteDocument = (id: string): Promise<ApiResult<undefined>> =>
  apiRequest('DELETE', `/api/documents/${encodeURIComponent(id)}`)

export const listMembers = (id: string): Promise<ApiResult<{ members: DocumentMember[] }>> =>
  apiRequest('GET', `/api/documents/${encodeURIComponent(id)}/members`)

export const shareDocument = (
  id: string,
  email: string,
  role: DocumentRole,
): Promise<ApiResult<DocumentMember>> =>
  apiRequest('PUT', `/api/documents/${encodeURIComponent(id)}/members`, { email, role })

export const removeMember = (id: string, userId: string): Promise<ApiResult<undefined>> =>
  apiRequest(
    'DELETE',
    `/api/documents/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`,
  )

/** Adds someone who has an account to an organisation (admins only). */
export const addOrganisationMember = (
  orgId: string,
  email: string,
  role: 'admin' | 'member',
): Promise<ApiResult<{ id: string }>> =>
  apiRequest('PUT', `/api/orgs/${encodeURIComponent(orgId)}/members`, { email, role })

const documentPath = (id: string): string => `/api/documents/${encodeURIComponent(id)}`

export const listVersions = (id: string): Promise<ApiResult<VersionList>> =>
  apiRequest('GET', `${documentPath(id)}/versions`)

/** The state right after update `seq`, as one Yjs update. */
export const fetchVersionState = async (
  id: string,
  seq: number,
): Promise<ApiResult<Uint8Array>> => {
  const result = await apiFetch('GET', `${documentPath(id)}/versions/${seq}`)
  if (!result.ok) return result
  return { ...result, data: new Uint8Array(await result.data.arrayBuffer()) }
}

/** Who wrote each run at `seq`, and with `since`, what changed after it. */
export const fetchVersionChanges = (
  id: string,
  seq: number,
  since: number | null,
): Promise<ApiResult<DocumentChanges>> =>
  apiRequest(
    'GET',
    `${documentPath(id)}/versions/${seq}/changes${since === null ? '' : `?since=${since}`}`,
  )

export const saveVersion = (id: string, name: string): Promise<ApiResult<{ seq: number }>> =>
  apiRequest('POST', `${documentPath(id)}/versions`, { name })

export const restoreVersion = (id: string, seq: number): Promise<ApiResult<undefined>> =>
  apiRequest('POST', `${documentPath(id)}/versions/${seq}/restore`)

/** The document rendered as a file, with the response's type. */
export const exportDocument = async (
  id: string,
  format: ExportFormat,
): Promise<ApiResult<Blob>> => {
  const result = await apiFetch('GET', `${documentPath(id)}/export?format=${format}`)
  if (!result.ok) return result
  return { ...result, data: await result.data.blob() }
}

/** Makes a new document in `orgId` from an HTML or Markdown file's text. */
export const importDocument = (body: {
  orgId: string
  title?: string
  format: ImportFormat
  content: string
}): Promise<ApiResult<{ id: string; title: string }>> =>
  apiRequest('POST', '/api/documents/import', body)
