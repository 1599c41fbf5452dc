/**
 * Builds the web app once before the browser tests, so they never test a
 * stale `packages/web/dist` (the README's test command must work on a fresh
 * clone, where nothing is built yet).
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export default function setup(): void {
  if (!existsSync('/usr/bin/chromium')) {
    throw new Error(
      "the browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    )
  }
  const result = spawnSync('npm', ['run', 'build', '--workspace', '@quire/web'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    // Vitest sets NODE_ENV=test, which would make Vite build React's
    // development bundle; the tests must see what people get.
    env: { ...process.env, NODE_ENV: 'production' },
  })
  if (result.status !== 0) throw new Error(`building the web app failed (${result.status})`)
}
