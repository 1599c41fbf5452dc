import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

export default defineConfig({
  resolve: {
    alias: {
      // Before '@quire/schema', which would otherwise claim the subpath.
      '@quire/schema/editor': fromRoot('./packages/schema/src/editor.ts'),
      '@quire/schema': fromRoot('./packages/schema/src/index.ts'),
      '@quire/protocol': fromRoot('./packages/protocol/src/index.ts'),
      '@quire/server': fromRoot('./packages/server/src/index.ts'),
      '@quire/tools': fromRoot('./packages/tools/src/index.ts'),
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/deploy/**/*.test.ts',
    ],
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only make timing-sensitive tests contend.
    maxWorkers: 2,
  },
})
