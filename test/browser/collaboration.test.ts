/**
 * People writing together in real browsers: two people type into one
 * document at once and end with the same content, see each other's carets
 * by name, undo only their own edits; a viewer cannot type; an edit made
 * while the connection is down survives a reload and reaches the others.
 * Field cases F5 (content seeded twice), F6 (offline replacement
 * duplicating text), F3 (a long offline period across compactions) and F7
 * (ghost carets) are here too.
 */
import type { Browser, Page, WebSocketRoute } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'
import {
  createSharedDocument,
  launchChromium,
  type Person,
  saveScreenshot,
  signUpPerson,
  startAppServer,
} from './support/browser.js'

const editorOf = (page: Page) => page.getByTestId('editor')
/** The editor's text, one line per block, without collaborators' caret labels. */
const textOf = (page: Page): Promise<string> =>
  editorOf(page).evaluate((root) => {
    const copy = root.cloneNode(true) as HTMLElement
    for (const caret of copy.querySelectorAll('.collaboration-carets__caret')) caret.remove()
    return [...copy.children]
      .map((block) => block.textContent ?? '')
      .join('\n')
      .trim()
  })

/** Opens `/d/<docId>` and waits until the editor shows the server's state. */
const openDocument = async (person: Person, docId: string): Promise<void> => {
  await person.page.goto(`/d/${docId}`)
  await editorOf(person.page).waitFor({ state: 'visible' })
  await waitUntil(
    async () =>
      (await person.page.getByTestId('connection-status').getAttribute('data-state')) ===
      'connected',
    `${person.name} connected`,
    20_000,
  )
}

/** Waits until every page shows the same, non-empty text; returns it. */
const waitForSameText = async (pages: readonly Page[], what: string): Promise<string> => {
  let texts: string[] = []
  try {
    await waitUntil(
      async () => {
        texts = await Promise.all(pages.map(textOf))
        return texts[0] !== '' && texts.every((text) => text === texts[0])
      },
      what,
      20_000,
      50,
    )
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(texts)}`)
  }
  return texts[0] as string
}

const waitForSaved = (page: Page): Promise<void> =>
  waitUntil(
    async () => (await page.getByTestId('save-status').getAttribute('data-state')) === 'saved',
    'saved',
    20_000,
  )

/** Puts the caret at the end of the editor's text. */
const focusEnd = async (page: Page): Promise<void> => {
  await editorOf(page).click()
  await page.keyboard.press('Control+End')
}

/**
 * Cuts (or restores) one page's sync socket while HTTP keeps working: the
 * page stands for a person whose WebSocket cannot get through.
 */
const controlSyncSocket = async (page: Page): Promise<{ cut(): void; restore(): void }> => {
  let isCut = false
  const open = new Set<WebSocketRoute>()
  await page.routeWebSocket(/\/sync\//, (ws) => {
    if (isCut) {
      ws.close({ code: 4503, reason: 'test: connection cut' })
      return
    }
    open.add(ws)
    ws.connectToServer()
  })
  return {
    cut: () => {
      isCut = true
      for (const ws of open) void ws.close({ code: 4503, reason: 'test: connection cut' })
      open.clear()
    },
    restore: () => {
      isCut = false
    },
  }
}

describe('collaborating in the browser', () => {
  let server: TestServer
  let browser: Browser
  let ada: Person
  let bob: Person
  let cleo: Person

  beforeAll(async () => {
    // Short pings reap dead sockets quickly (F7); frequent checkpoints make
    // the offline client come back across compactions (F3).
    server = await startAppServer({ pingIntervalMs: '1000', compactAfterUpdates: '20' })
    browser = await launchChromium()
    ada = await signUpPerson(browser, server, 'Ada')
    bob = await signUpPerson(browser, server, 'Bob')
    cleo = await signUpPerson(browser, server, 'Cleo')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.dispose()
  })

  it('two people typing at once end with the same content and see each other by name', async () => {
    const docId = await createSharedDocument(server, ada, 'Together', [
      { person: bob, role: 'editor' },
    ])
    // F5: both open the brand-new, empty document at the same moment;
    // opening writes nothing, so nothing can be seeded twice.
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    await Promise.all([waitForSaved(ada.page), waitForSaved(bob.page)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Title line.')
    expect(await waitForSameText([ada.page, bob.page], 'the first line arrives')).toBe(
      'Title line.',
    )
    expect(await editorOf(bob.page).locator('p').count()).toBe(1)

    // Both type at once: Ada at the end of her line, Bob in a new one.
    await focusEnd(bob.page)
    await bob.page.keyboard.press('Enter')
    await waitUntil(
      async () => (await editorOf(ada.page).locator('p').count()) === 2,
      "Bob's new line arrives",
    )
    await editorOf(ada.page).locator('p').first().click()
    await ada.page.keyboard.press('End')
    const adaText = ' Ada writes this.'
    const bobText = 'Bob adds his words.'
    await Promise.all([
      ada.page.keyboard.type(adaText, { delay: 15 }),
      bob.page.keyboard.type(bobText, { delay: 15 }),
    ])
    expect(await waitForSameText([ada.page, bob.page], 'both editors converge')).toBe(
      `Title line.${adaText}\n${bobText}`,
    )

    // And into the same line, at the same place, at once: whatever order
    // the characters interleave in, both end with the same text.
    await Promise.all([focusEnd(ada.page), focusEnd(bob.page)])
    await Promise.all([
      ada.page.keyboard.type('aaaa', { delay: 15 }),
      bob.page.keyboard.type('bbbb', { delay: 15 }),
    ])
    const merged = await waitForSameText([ada.page, bob.page], 'the same line converges')
    const lastLine = merged.split('\n')[1] ?? ''
    expect(lastLine.startsWith(bobText), merged).toBe(true)
    expect([...lastLine.slice(bobText.length)].sort().join(''), merged).toBe('aaaabbbb')

    // Each sees the other's caret, labelled with the name the server knows.
    const bobSeesAda = bob.page.locator('.collaboration-carets__label', { hasText: 'Ada' })
    const adaSeesBob = ada.page.locator('.collaboration-carets__label', { hasText: 'Bob' })
    await bobSeesAda.waitFor({ state: 'attached', timeout: 10_000 })
    await adaSeesBob.waitFor({ state: 'attached', timeout: 10_000 })
    const adaAvatar = bob.page.locator('[data-testid="avatar"][data-name="Ada"] .avatar')
    await adaAvatar.waitFor({ timeout: 10_000 })
    // In her colour, the same on her caret and her avatar.
    const caretColor = await bobSeesAda.evaluate((label) => getComputedStyle(label).backgroundColor)
    expect(await adaAvatar.evaluate((avatar) => getComputedStyle(avatar).backgroundColor)).toBe(
      caretColor,
    )

    await Promise.all([waitForSaved(ada.page), waitForSaved(bob.page)])
    const path = await saveScreenshot(ada.page, 'two-people-editing')
    expect(path).toMatch(/two-people-editing\.png$/)
  })

  it("undo takes back one's own edits, never a collaborator's", async () => {
    const docId = await createSharedDocument(server, ada, 'Undo', [{ person: bob, role: 'editor' }])
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Ada first.')
    await waitForSameText([ada.page, bob.page], "Ada's line arrives")
    await focusEnd(bob.page)
    await bob.page.keyboard.press('Enter')
    await bob.page.keyboard.type('Bob second.')
    await waitUntil(async () => (await textOf(ada.page)).includes('Bob second.'), 'Bob arrives')

    await ada.page.keyboard.press('Control+z')
    await waitUntil(
      async () => (await textOf(bob.page)) === 'Bob second.',
      "Ada's undo reaches Bob",
    )
    expect(await textOf(ada.page)).toBe('Bob second.')

    await ada.page.getByRole('button', { name: 'Redo' }).click()
    await waitForSameText([ada.page, bob.page], 'redo converges')
    expect(await textOf(bob.page)).toContain('Ada first.')
    expect(await textOf(bob.page)).toContain('Bob second.')
  })

  it('a viewer sees edits live but cannot type', async () => {
    const docId = await createSharedDocument(server, ada, 'Read only', [
      { person: cleo, role: 'viewer' },
    ])
    await Promise.all([openDocument(ada, docId), openDocument(cleo, docId)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Only Ada writes here.')
    await waitForSameText([ada.page, cleo.page], 'the viewer sees the text')

    expect(await editorOf(cleo.page).getAttribute('contenteditable')).toBe('false')
    expect(await cleo.page.getByRole('button', { name: 'Bold' }).isDisabled()).toBe(true)
    // Every button of the toolbar is disabled and looks it, undo and redo
    // alike (only the pressed ones, showing where the caret is, differ).
    const looks = await cleo.page
      .getByRole('toolbar', { name: 'Formatting' })
      .getByRole('button')
      .evaluateAll((buttons) =>
        buttons
          .filter((button) => button.getAttribute('aria-pressed') !== 'true')
          .map((button) => {
            const style = getComputedStyle(button)
            return `${(button as HTMLButtonElement).disabled} ${style.opacity} ${style.color}`
          }),
      )
    expect(looks.length).toBeGreaterThan(14)
    expect(new Set(looks)).toEqual(new Set([looks[0]]))
    expect(looks[0]?.startsWith('true')).toBe(true)
    await editorOf(cleo.page).click()
    await cleo.page.keyboard.type('Cleo tries')
    await ada.page.keyboard.type(' More.')
    await waitForSameText([ada.page, cleo.page], 'more text reaches the viewer')
    expect(await textOf(cleo.page)).toBe('Only Ada writes here. More.')
  })

  it('keeps an edit made while disconnected across a reload and delivers it on reconnection (F3)', async () => {
    const docId = await createSharedDocument(server, ada, 'Offline', [
      { person: bob, role: 'editor' },
    ])
    const link = await controlSyncSocket(bob.page)
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Shared start.')
    await waitForSameText([ada.page, bob.page], 'the start is shared')

    link.cut()
    await waitUntil(
      async () =>
        (await bob.page.getByTestId('connection-status').getAttribute('data-state')) !==
        'connected',
      'Bob disconnected',
    )
    await focusEnd(bob.page)
    await bob.page.keyboard.type(' Bob offline.')
    // Meanwhile Ada writes enough for the server to take checkpoints.
    for (let i = 0; i < 3; i++) await ada.page.keyboard.type(` Ada ${i}.`, { delay: 5 })

    await bob.page.reload()
    await editorOf(bob.page).waitFor({ state: 'visible' })
    await waitUntil(
      async () => (await textOf(bob.page)).includes('Bob offline.'),
      'the offline edit is back after the reload (IndexedDB)',
    )
    expect(await bob.page.getByTestId('save-status').getAttribute('data-state')).toBe('unsaved')

    link.restore()
    const text = await waitForSameText([ada.page, bob.page], 'the offline edit syncs')
    expect(text).toContain('Bob offline.')
    expect(text).toContain('Ada 2.')
    expect(text.match(/Shared start\./g)).toHaveLength(1)
    await waitForSaved(bob.page)
  })

  it('reopens a document with no network at all and keeps what was typed offline', async () => {
    const docId = await createSharedDocument(server, ada, 'No network', [
      { person: bob, role: 'editor' },
    ])
    const link = await controlSyncSocket(ada.page)
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Written online.')
    await waitForSameText([ada.page, bob.page], 'the online line is shared')
    // The service worker has the app shell once it controls the page.
    await waitUntil(
      () => ada.page.evaluate(() => navigator.serviceWorker.controller !== null),
      'the service worker controls the page',
    )

    await ada.context.setOffline(true)
    link.cut()
    await focusEnd(ada.page)
    await ada.page.keyboard.type(' Written offline.')
    // The status says when the device's copy holds every edit.
    await waitUntil(
      async () =>
        (await ada.page.getByTestId('save-status').getAttribute('data-local')) === 'stored' &&
        (await ada.page.getByTestId('save-status').innerText()) === 'Saved on this device',
      'the offline edit is stored on the device',
    )
    await ada.page.reload()
    await editorOf(ada.page).waitFor({ state: 'visible', timeout: 20_000 })
    await waitUntil(
      async () => (await textOf(ada.page)) === 'Written online. Written offline.',
      'the app and the offline edit are back without any network',
    )
    expect(await textOf(bob.page)).toBe('Written online.')

    await ada.context.setOffline(false)
    link.restore()
    expect(await waitForSameText([ada.page, bob.page], 'the offline edit syncs')).toBe(
      'Written online. Written offline.',
    )
    await waitForSaved(ada.page)
  })

  it('an offline edit does not duplicate text two others replaced meanwhile (F6)', async () => {
    const docId = await createSharedDocument(server, ada, 'Replace', [
      { person: bob, role: 'editor' },
      { person: cleo, role: 'editor' },
    ])
    const cleoLink = await controlSyncSocket(cleo.page)
    await Promise.all([
      openDocument(ada, docId),
      openDocument(bob, docId),
      openDocument(cleo, docId),
    ])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('alpha beta gamma delta')
    await waitForSameText([ada.page, bob.page, cleo.page], 'the sentence is shared')

    cleoLink.cut()
    await waitUntil(
      async () =>
        (await cleo.page.getByTestId('connection-status').getAttribute('data-state')) !==
        'connected',
      'Cleo disconnected',
    )
    // The same word replaced twice: online by Ada, offline by Cleo.
    await replaceWord(ada.page, 'beta', 'BETA')
    await replaceWord(cleo.page, 'beta', 'Beta')
    await waitUntil(async () => (await textOf(bob.page)).includes('BETA'), 'Bob sees BETA')
    cleoLink.restore()

    const text = await waitForSameText([ada.page, bob.page, cleo.page], 'all three converge')
    for (const word of ['alpha', 'gamma delta', 'BETA', 'Beta']) {
      expect(text.split(word).length - 1, `${word} once in ${text}`).toBe(1)
    }
    expect(text).not.toContain('beta')
    expect(text.length).toBe('alpha BETABeta gamma delta'.length)
  })

  it('shows both people to each other again right after a connection comes back', async () => {
    const docId = await createSharedDocument(server, ada, 'Presence', [
      { person: bob, role: 'editor' },
    ])
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    await focusEnd(ada.page)
    await ada.page.keyboard.type('Ada is here.')
    await waitForSameText([ada.page, bob.page], "Ada's line arrives")
    await focusEnd(bob.page)
    await bob.page.keyboard.type(' Bob too.')
    const sees = async (viewer: Person, other: Person): Promise<boolean> => {
      const avatar = viewer.page.locator(`[data-testid="avatar"][data-name="${other.name}"]`)
      const caret = viewer.page.locator('.collaboration-carets__label', { hasText: other.name })
      return (await avatar.count()) === 1 && (await caret.count()) === 1
    }
    const bothSee = async (): Promise<boolean> => (await sees(ada, bob)) && (await sees(bob, ada))
    await waitUntil(bothSee, 'both see each other', 10_000)

    // Bob's network drops until Ada has seen him leave, then comes back.
    await bob.context.setOffline(true)
    await waitUntil(async () => !(await sees(ada, bob)), 'Ada sees Bob leave', 15_000)
    await bob.context.setOffline(false)
    await waitUntil(
      async () =>
        (await bob.page.getByTestId('connection-status').getAttribute('data-state')) ===
        'connected',
      'Bob connected again',
      20_000,
    )
    // Not after the 15 s renewal of awareness states: right away.
    await waitUntil(bothSee, 'both see each other again within 3 s', 3_000, 50)
  })

  it('removes the caret of a person whose browser died without closing (F7)', async () => {
    const ghost = await signUpPerson(browser, server, 'Gus')
    const docId = await createSharedDocument(server, ada, 'Ghosts', [
      { person: ghost, role: 'editor' },
    ])
    await Promise.all([openDocument(ada, docId), openDocument(ghost, docId)])
    await focusEnd(ghost.page)
    await ghost.page.keyboard.type('boo')
    const gusCaret = ada.page.locator('.collaboration-carets__label', { hasText: 'Gus' })
    await gusCaret.waitFor({ state: 'attached', timeout: 10_000 })

    const cdp = await ghost.context.newCDPSession(ghost.page)
    // The renderer dies mid-session: no close handshake from the page. The
    // reply never comes, so it is not awaited.
    void cdp.send('Page.crash').catch(() => undefined)
    await gusCaret.waitFor({ state: 'detached', timeout: 35_000 })
    await ada.page
      .locator('[data-testid="avatar"][data-name="Gus"]')
      .waitFor({ state: 'detached', timeout: 5_000 })
    await ghost.context.close()
  })
})

/** Selects the first `word` in the editor as a person would (double-click) and types over it. */
const replaceWord = async (page: Page, word: string, replacement: string): Promise<void> => {
  await page.getByTestId('editor').getByText(word, { exact: false }).first().waitFor()
  const box = await page.getByTestId('editor').evaluate((root, target) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
    for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
      const at = node.textContent?.indexOf(target) ?? -1
      if (at === -1) continue
      const range = document.createRange()
      range.setStart(node, at)
      range.setEnd(node, at + target.length)
      const rect = range.getBoundingClientRect()
      return { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 }
    }
    return null
  }, word)
  if (box === null) throw new Error(`"${word}" is not in the editor`)
  await page.mouse.dblclick(box.x, box.y)
  await page.keyboard.type(replacement)
}
