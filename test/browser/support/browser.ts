/**
 * A real node serving the built web app, and Debian's chromium driven by
 * playwright-core, for tests that use Quire the way a person does.
 */
import { randomUUID } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { startTestServer, type TestServer } from '../../support/servers.js'

/** Where tests leave screenshots; CI keeps the folder as an artifact. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url))

/** Chromium as the project's machines have it: Debian's build, headless. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: process.env.QUIRE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })

/** A node with accounts on (the default) serving `packages/web/dist`. */
export const startAppServer = (
  flags: Parameters<typeof startTestServer>[0]['flags'] = {},
): Promise<TestServer> =>
  startTestServer({ store: 'postgres', flags: { auth: 'required', logLevel: 'info', ...flags } })

/** A person: a browser context with its own cookies and storage, signed up through the API. */
export interface Person {
  readonly name: string
  readonly email: string
  readonly password: string
  readonly userId: string
  readonly orgId: string
  readonly context: BrowserContext
  readonly page: Page
}

export const PASSWORD = 'correct horse battery staple'

/**
 * Signs a new person up in a fresh context (the API call shares the
 * context's cookie jar, so the page starts signed in).
 */
export const signUpPerson = async (
  browser: Browser,
  server: TestServer,
  name: string,
): Promise<Person> => {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: { width: 1280, height: 800 },
  })
  const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`
  const response = await context.request.post('/api/auth/signup', {
    headers: { origin: server.url },
    data: { email, password: PASSWORD, name },
  })
  if (response.status() !== 201) throw new Error(`sign-up failed: ${response.status()}`)
  const body = (await response.json()) as { user: { id: string }; organisation: { id: string } }
  const page = await context.newPage()
  return {
    name,
    email,
    password: PASSWORD,
    userId: body.user.id,
    orgId: body.organisation.id,
    context,
    page,
  }
}

/** Creates a document as `owner` through the API and shares it with others. */
export const createSharedDocument = async (
  server: TestServer,
  owner: Person,
  title: string,
  shares: readonly { person: Person; role: 'owner' | 'editor' | 'commenter' | 'viewer' }[] = [],
): Promise<string> => {
  const created = await owner.context.request.post('/api/documents', {
    headers: { origin: server.url },
    data: { orgId: owner.orgId, title },
  })
  if (created.status() !== 201) throw new Error(`document creation failed: ${created.status()}`)
  const { id } = (await created.json()) as { id: string }
  for (const { person, role } of shares) {
    await addToOrganisation(server, owner, person)
    const shared = await owner.context.request.put(`/api/documents/${id}/members`, {
      headers: { origin: server.url },
      data: { email: person.email, role },
    })
    if (shared.status() !== 200) throw new Error(`sharing failed: ${shared.status()}`)
  }
  return id
}

/** Makes `person` a member of `admin`'s organisation. */
export const addToOrganisation = async (
  server: TestServer,
  admin: Person,
  person: Person,
): Promise<void> => {
  const response = await admin.context.request.put(`/api/orgs/${admin.orgId}/members`, {
    headers: { origin: server.url },
    data: { email: person.email, role: 'member' },
  })
  if (response.status() !== 200) throw new Error(`adding a member failed: ${response.status()}`)
}

/** Saves a full-page screenshot under `test-artifacts/` and returns its path. */
export const saveScreenshot = async (page: Page, name: string): Promise<string> => {
  await mkdir(ARTIFACTS_DIR, { recursive: true })
  const path = `${ARTIFACTS_DIR}${name}.png`
  await page.screenshot({ path, fullPage: true })
  return path
}

/**
 * The editor's HTML without what differs between two people's views of the
 * same content: collaborators' carets and selections, and the placeholder
 * ProseMirror shows in the block holding the local caret.
 */
export const contentHtmlOf = (page: Page): Promise<string> =>
  page.getByTestId('editor').evaluate((root) => {
    const copy = root.cloneNode(true) as HTMLElement
    for (const widget of copy.querySelectorAll(
      '.collaboration-carets__caret, img.ProseMirror-separator, br.ProseMirror-trailingBreak',
    ))
      widget.remove()
    for (const selection of copy.querySelectorAll('.collaboration-carets__selection'))
      selection.replaceWith(...selection.childNodes)
    for (const element of copy.querySelectorAll('[data-placeholder]')) {
      element.removeAttribute('data-placeholder')
      element.classList.remove('is-empty', 'is-editor-empty')
      if (element.getAttribute('class') === '') element.removeAttribute('class')
    }
    copy.normalize()
    return copy.innerHTML
  })

/**
 * Buttons, inputs, selects and text areas on the page whose accessible name
 * is empty, as the start of their HTML. A name comes from `aria-label`,
 * `aria-labelledby`, `<label>` elements or a button's visible text (content
 * under `aria-hidden` does not count, nor do `title` and `placeholder`).
 */
export const unnamedControlsOf = (page: Page): Promise<string[]> =>
  page.locator('button, input, select, textarea').evaluateAll((elements) =>
    elements
      .filter((element) => {
        const control = element as HTMLInputElement
        const byIds = (control.getAttribute('aria-labelledby') ?? '')
          .split(/\s+/)
          .map((id) => (id === '' ? '' : (document.getElementById(id)?.textContent ?? '')))
          .join('')
        const byLabels = [...(control.labels ?? [])].map((label) => label.textContent).join('')
        const spoken = control.cloneNode(true) as HTMLElement
        for (const hidden of spoken.querySelectorAll('[aria-hidden="true"]')) hidden.remove()
        const ownText = control.tagName === 'BUTTON' ? (spoken.textContent ?? '') : ''
        const name = [control.getAttribute('aria-label') ?? '', byIds, byLabels, ownText]
        return name.join('').trim() === ''
      })
      .map((element) => element.outerHTML.slice(0, 120)),
  )
