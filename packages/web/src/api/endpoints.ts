/** One function per API route the app uses (docs/API.md). */
import { type ApiResult, apiRequest } from './client.js'
import type { DocumentInfo, DocumentMember, DocumentRole, Me, User } from './types.js'

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
