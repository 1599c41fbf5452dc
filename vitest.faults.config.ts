import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

/**
 * Fault tests kill, freeze and restart real processes (nodes, Redis,
 * PostgreSQL). They run after the main suite, one file at a time, so no
 * other test shares a frozen database.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
  },
})
