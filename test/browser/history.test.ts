/**
 * History, export and import as a person uses them in the browser: the
 * history panel lists versions and saves a named one, an old version opens
 * read-only, the changes since the version before are marked in their
 * author's colour with a legend, the slider scrubs through every update,
 * and a restore made while someone else keeps typing leaves both people
 * with the same content: the restored text and what the other typed after.
 * Export downloads a file; importing a Markdown file makes a new document.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait.js'
import {
  contentHtmlOf,
  createSharedDocument,
  launchChromium,
  type Person,
  saveScreenshot,
  signUpPerson,
  startAppServer,
  unnamedControlsOf,
} from './support/browser.js'

const editorOf = (page: Page) => page.getByTestId('editor')
const versionEditorOf = (page: Page) => page.getByTestId('version-editor')

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

const waitForSaved = (page: Page): Promise<void> =>
  waitUntil(
    async () => (await page.getByTestId('save-status').getAttribute('data-state')) === 'saved',
    'saved',
    20_000,
  )

const typeAtEnd = async (page: Page, text: string): Promise<void> => {
  await editorOf(page).click()
  await page.keyboard.press('Control+End')
  await page.keyboard.type(text)
}

const waitForText = (page: Page, what: string, has: (text: string) => boolean): Promise<void> =>
  waitUntil(async () => has((await editorOf(page).textContent()) ?? ''), what, 20_000, 50)

describe('history in the browser', () => {
  let server: TestServer
  let browser: Browser
  let ada: Person
  let bob: Person

  beforeAll(async () => {
    server = await startAppServer()
    browser = await launchChromium()
    ada = await signUpPerson(browser, server, 'Ada')
    bob = await signUpPerson(browser, server, 'Bob')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.dispose()
  })

  it('saves, opens, compares, scrubs and restores versions while someone keeps typing', async () => {
    const docId = await createSharedDocument(server, ada, 'Minutes', [
      { person: bob, role: 'editor' },
    ])
    await Promise.all([openDocument(ada, docId), openDocument(bob, docId)])
    const page = ada.page
    await typeAtEnd(page, 'First draft.')
    await waitForSaved(page)

    // Open the panel, save a named version.
    await page.getByRole('button', { name: 'History', exact: true }).click()
    const panel = page.getByTestId('history-panel')
    await panel.waitFor({ state: 'visible' })
    await panel.getByLabel('Version name').fill('Draft one')
    await panel.getByRole('button', { name: 'Save version' }).click()
    await panel.getByRole('status').filter({ hasText: 'Saved “Draft one”' }).waitFor()
    await panel.getByTestId('version-item').filter({ hasText: 'Draft one' }).waitFor()
    expect(await unnamedControlsOf(page)).toEqual([])

    // Bob adds a sentence; Ada saves that as a second version.
    await waitForText(bob.page, 'the draft reaches Bob', (text) => text.includes('First draft.'))
    await typeAtEnd(bob.page, ' Bob was here.')
    await waitForSaved(bob.page)
    await waitForText(page, "Bob's sentence arrives", (text) => text.includes('Bob was here.'))
    await panel.getByLabel('Version name').fill('Draft two')
    await panel.getByRole('button', { name: 'Save version' }).click()
    const draftTwo = panel.getByTestId('version-item').filter({ hasText: 'Draft two' })
    await draftTwo.waitFor()
    await expect.poll(() => draftTwo.textContent()).toContain('Bob')

    // The old version, read-only.
    await panel.getByTestId('version-item').filter({ hasText: 'Draft one' }).click()
    await waitUntil(
      async () => (await versionEditorOf(page).textContent()) === 'First draft.',
      'the first version shows',
    )
    expect(await versionEditorOf(page).getAttribute('contenteditable')).toBe('false')
    expect(await editorOf(page).isVisible()).toBe(false)
    expect(await page.getByTestId('viewed-version').textContent()).toContain('Draft one')

    // The second version's changes: Bob's sentence added, in his colour.
    await draftTwo.click()
    await page.getByLabel('Changes since the version before').check()
    const added = versionEditorOf(page).locator('ins.change-added')
    await added.first().waitFor()
    expect(await added.allTextContents()).toEqual([' Bob was here.'])
    expect(await added.first().getAttribute('data-author')).toBe(bob.userId)
    expect(await added.first().getAttribute('title')).toContain('Added by Bob')
    expect(await page.getByTestId('legend-author').allTextContents()).toEqual(['Bob'])
    await page.getByLabel('Who wrote what').check()
    await waitUntil(
      async () => (await page.getByTestId('legend-author').allTextContents()).length === 2,
      'both authors in the legend',
    )
    expect(
      await versionEditorOf(page).locator(`[data-author="${ada.userId}"]`).allTextContents(),
    ).toEqual(['First draft.'])
    // The first author listed has the colour of their avatar (the others
    // too, unless two people's colours collide in one version).
    const firstAuthor = page.getByTestId('legend-author').first()
    const firstName = (await firstAuthor.textContent()) ?? ''
    const swatchColor = await firstAuthor
      .locator('.legend-swatch')
      .evaluate((swatch) => getComputedStyle(swatch).backgroundColor)
    const avatarColor = await page
      .locator(`[data-testid="avatar"][data-name="${firstName}"] .avatar`)
      .evaluate((avatar) => getComputedStyle(avatar).backgroundColor)
    expect(swatchColor).toBe(avatarColor)
    await saveScreenshot(page, 'history-authors')

    // Scrub: the slider's start is the empty document, a step back from the
    // end is the document without Bob's last character.
    await page.getByLabel('As it was').check()
    const scrubber = panel.getByTestId('history-scrubber')
    await scrubber.focus()
    await page.keyboard.press('End')
    await page.keyboard.press('ArrowLeft')
    await waitUntil(
      async () => (await versionEditorOf(page).textContent()) === 'First draft. Bob was here',
      'one update back',
    )
    expect(await page.getByTestId('viewed-version').textContent()).toMatch(/^Update \d+ of \d+$/)
    await page.keyboard.press('Home')
    await waitUntil(
      async () => (await versionEditorOf(page).textContent()) === '',
      'the empty start',
    )

    // Restore Draft one while Bob keeps typing.
    await panel.getByTestId('version-item').filter({ hasText: 'Draft one' }).click()
    await waitUntil(
      async () => (await versionEditorOf(page).textContent()) === 'First draft.',
      'draft one shows again',
    )
    await editorOf(bob.page).click()
    await bob.page.keyboard.press('Control+End')
    let isTyping = true
    const typing = (async () => {
      while (isTyping) await bob.page.keyboard.type('z', { delay: 20 })
    })()
    await page.getByRole('button', { name: 'Restore this version' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click()
    await page.getByRole('status').filter({ hasText: 'Restored Draft one' }).waitFor()
    await editorOf(page).waitFor({ state: 'visible' })
    await waitForText(bob.page, 'the restore reaches Bob', (text) => !text.includes('Bob was'))
    isTyping = false
    await typing
    await typeAtEnd(bob.page, ' After the restore.')
    await waitUntil(
      async () => {
        const [a, b] = await Promise.all([contentHtmlOf(page), contentHtmlOf(bob.page)])
        return a === b && a.includes('First draft.') && a.includes('After the restore.')
      },
      'both show the restored text and what Bob typed after',
      20_000,
      50,
    )
    expect(await editorOf(page).textContent()).not.toContain('Bob was here')

    // The slider is back at Now after the restore, and stays there as the
    // list learns of the updates made since.
    const position = panel.getByTestId('scrubber-position')
    const sliderAt = async (): Promise<{ value: string; max: string | null }> => ({
      value: await scrubber.inputValue(),
      max: await scrubber.getAttribute('max'),
    })
    expect(await position.textContent()).toBe('Now')
    const { max: maxAfterRestore } = await sliderAt()
    expect((await sliderAt()).value).toBe(maxAfterRestore)
    await waitUntil(
      async () => (await sliderAt()).max !== maxAfterRestore,
      'the list refreshes with the later updates',
      15_000,
      100,
    )
    const later = await sliderAt()
    expect(later.value).toBe(later.max)
    expect(await position.textContent()).toBe('Now')

    // Escape closes the panel and gives focus back to its button.
    await panel.getByTestId('history-scrubber').focus()
    await page.keyboard.press('Escape')
    await panel.waitFor({ state: 'detached' })
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('History')
  })

  it('fits a 390 px wide phone: every toolbar button in reach, history below the editor', async () => {
    const docId = await createSharedDocument(server, ada, 'Phone', [
      { person: bob, role: 'editor' },
    ])
    const page = ada.page
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      await openDocument(ada, docId)
      await typeAtEnd(page, 'Typed on a phone.')
      await waitForSaved(page)

      // No sideways scrolling anywhere, and every toolbar button can be reached.
      const buttons = page.getByRole('toolbar', { name: 'Formatting' }).getByRole('button')
      expect(await buttons.count()).toBe(17)
      for (const button of await buttons.all()) {
        await button.scrollIntoViewIfNeeded()
        expect(await button.isVisible()).toBe(true)
        const box = await button.boundingBox()
        expect(box, (await button.getAttribute('aria-label')) ?? '').not.toBeNull()
        expect(box?.x ?? -1).toBeGreaterThanOrEqual(0)
        expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(390)
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        390,
      )

      // The header keeps to two rows, Share on the first.
      const header = page.locator('header.app-header')
      const rowOf = async (name: string): Promise<number> => {
        const box = await header.getByRole('button', { name, exact: true }).boundingBox()
        return Math.round((box?.y ?? 0) + (box?.height ?? 0) / 2)
      }
      const titleBox = await header.getByLabel('Document title').boundingBox()
      const titleRow = Math.round((titleBox?.y ?? 0) + (titleBox?.height ?? 0) / 2)
      expect(Math.abs((await rowOf('Share')) - titleRow)).toBeLessThan(8)
      expect(await rowOf('History')).toBe(await rowOf('Export'))
      expect(await rowOf('History')).toBeGreaterThan(titleRow)
      const headerBox = await header.boundingBox()
      expect(headerBox?.height ?? 0).toBeLessThan(110)

      // The history panel opens below the editor.
      await header.getByRole('button', { name: 'History', exact: true }).click()
      const panel = page.getByTestId('history-panel')
      await panel.waitFor({ state: 'visible' })
      const editorBox = await editorOf(page).boundingBox()
      const panelBox = await panel.boundingBox()
      expect(panelBox?.y ?? 0).toBeGreaterThanOrEqual(
        (editorBox?.y ?? 0) + (editorBox?.height ?? 0),
      )
      // Scrolled into sight as it opens, below the sticky header.
      const stickyHeaderBox = await header.boundingBox()
      expect(panelBox?.y ?? 0).toBeGreaterThanOrEqual(stickyHeaderBox?.height ?? 0)
      expect((panelBox?.y ?? 999) + 100).toBeLessThan(844)
      expect((panelBox?.x ?? -1) + (panelBox?.width ?? 999)).toBeLessThanOrEqual(390)
      // A full-page screenshot of a scrolled page paints the sticky header mid-page.
      await page.evaluate(() => window.scrollTo(0, 0))
      await saveScreenshot(page, 'narrow-history')
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 })
    }
  })

  it('exports the document as a file from the editor menu', async () => {
    const docId = await createSharedDocument(server, ada, 'Export me')
    await openDocument(ada, docId)
    await typeAtEnd(ada.page, 'Exported words.')
    await waitForSaved(ada.page)
    await ada.page.getByRole('button', { name: 'Export' }).click()
    const menu = ada.page.getByRole('menu', { name: 'Export as' })
    await menu.waitFor()
    const downloading = ada.page.waitForEvent('download')
    await ada.page.keyboard.press('ArrowDown') // Markdown, by keyboard
    await ada.page.keyboard.press('Enter')
    const download = await downloading
    expect(download.suggestedFilename()).toBe('Export me.md')
    const chunks: Buffer[] = []
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).toString('utf8')).toContain('Exported words.')
  })

  it('imports a Markdown file as a new document from the documents page', async () => {
    const page = ada.page
    await page.goto('/')
    await page.getByRole('heading', { name: 'Documents' }).waitFor()
    await page.getByTestId('import-file').setInputFiles({
      name: 'Trip notes.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Packing\n\nBring a **map** and water.\n'),
    })
    await page.waitForURL(/\/d\/[^/]+$/)
    await editorOf(page).locator('h1').filter({ hasText: 'Packing' }).waitFor()
    expect(await editorOf(page).locator('strong').textContent()).toBe('map')
    // Named by its first heading, not by the file.
    await page.goto('/')
    await page.getByTestId('document-row').filter({ hasText: 'Packing' }).waitFor()
    expect(await page.getByTestId('document-row').filter({ hasText: 'Trip notes' }).count()).toBe(0)
  })

  it("names an import by an HTML file's <title>, else its heading, else the file name", async () => {
    const page = ada.page
    const importFile = async (name: string, mimeType: string, content: string): Promise<void> => {
      await page.goto('/')
      await page.getByRole('heading', { name: 'Documents' }).waitFor()
      await page
        .getByTestId('import-file')
        .setInputFiles({ name, mimeType, buffer: Buffer.from(content) })
      await page.waitForURL(/\/d\/[^/]+$/)
      await editorOf(page).waitFor()
    }
    await importFile(
      'export.html',
      'text/html',
      '<html><head><title>Quarterly plan</title></head><body><h1>Intro</h1><p>Text.</p></body></html>',
    )
    expect(await page.getByLabel('Document title').inputValue()).toBe('Quarterly plan')
    await importFile('page.html', 'text/html', '<p>Before.</p><h2>Budget</h2><p>After.</p>')
    expect(await page.getByLabel('Document title').inputValue()).toBe('Budget')
    await importFile('Loose notes.md', 'text/markdown', 'No heading, *just* text.\n')
    expect(await page.getByLabel('Document title').inputValue()).toBe('Loose notes')
  })
})
