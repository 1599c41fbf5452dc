import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * Browser tests: the built web app, served by a real node, driven in
 * Debian's chromium through playwright-core. One file at a time: each
 * runs several browser contexts, and this machine has two cores.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['./test/support/global-setup.ts', './test/browser/support/build-web-app.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
  },
})
