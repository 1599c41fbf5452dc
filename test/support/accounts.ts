/**
 * A signed-in user for tests against a node with `--auth required`: calls
 * the API with the node's own Origin and keeps the cookies it sets.
 */
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { waitUntil } from './wait.js'

/** A user of the API with a cookie jar. */
export class ApiUser {
  readonly cookies = new Map<string, string>()
  userId = ''
  orgId = ''

  constructor(
    readonly baseUrl: string,
    readonly email: string,
    /** The Origin its requests and sockets carry: the node's public origin. */
    readonly origin = new URL(baseUrl).origin,
    readonly password = 'correct horse battery staple',
  ) {}

  /** Signs up (creating the user and their organisation). */
  static async signUp(baseUrl: string, name: string, origin?: string): Promise<ApiUser> {
    const email = `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@example.test`
    const user = new ApiUser(baseUrl, email, origin ?? new URL(baseUrl).origin)
    const response = await user.call('POST', '/api/auth/signup', {
      email: user.email,
      password: user.password,
      name,
    })
    if (response.status !== 201)
      throw new Error(`sign-up failed: ${response.status} ${await response.text()}`)
    const body = (await response.json()) as { user: { id: string }; organisation: { id: string } }
    user.userId = body.user.id
    user.orgId = body.organisation.id
    return user
  }

  /** The Cookie header of everything set so far. */
  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** Calls the API as this user, from the node's own origin. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    origin = this.origin,
  ): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        origin,
        cookie: this.cookieHeader,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const separator = pair.indexOf('=')
      const name = pair.slice(0, separator)
      const value = pair.slice(separator + 1)
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  async createDocument(title: string): Promise<string> {
    const response = await this.call('POST', '/api/documents', { orgId: this.orgId, title })
    if (response.status !== 201)
      throw new Error(`create failed: ${response.status} ${await response.text()}`)
    return ((await response.json()) as { id: string }).id
  }

  /** A y-websocket provider that sends this user's cookies and the given Origin. */
  connect(
    wsUrl: string,
    docId: string,
    origin = this.origin,
  ): { doc: Y.Doc; provider: WebsocketProvider } {
    const headers = { cookie: this.cookieHeader, origin }
    class AuthedSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { headers })
      }
    }
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(`${wsUrl}/sync`, docId, doc, {
      WebSocketPolyfill: AuthedSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
      maxBackoffTime: 300,
    })
    return { doc, provider }
  }
}

/** Opens a raw upgrade and resolves with the HTTP status (101 when it opened). */
export const upgradeStatus = (url: string, headers: Record<string, string>): Promise<number> =>
  new Promise((resolve) => {
    const socket = new WebSocket(url, { headers })
    socket.on('open', () => {
      socket.close()
      resolve(101)
    })
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0)
      socket.terminate()
    })
    socket.on('error', () => undefined)
  })

/** Resolves when a provider has synced. */
export const whenProviderSynced = (provider: WebsocketProvider): Promise<void> =>
  waitUntil(() => provider.synced, 'provider synced')
