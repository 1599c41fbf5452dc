import { defineConfig } from 'vite'

const fromHere = (path: string): string =>
  decodeURIComponent(new URL(path, import.meta.url).pathname)

/**
 * Builds the app into `dist/`, which a Quire node serves. The node's
 * Content-Security-Policy allows scripts, styles and images from its own
 * origin only, so nothing may be inlined: no data: assets, no inline
 * scripts (the module-preload polyfill would be one), CSS as files.
 */
export default defineConfig({
  resolve: {
    // The workspace packages are used from source: the app builds without
    // `tsc -b` having run first (the browser tests build only this package).
    alias: [
      { find: /^@quire\/schema\/editor$/, replacement: fromHere('../schema/src/editor.ts') },
      { find: /^@quire\/schema$/, replacement: fromHere('../schema/src/index.ts') },
      { find: /^@quire\/protocol$/, replacement: fromHere('../protocol/src/index.ts') },
    ],
    // One copy of each: two copies of yjs break `instanceof` checks and
    // corrupt documents; two of prosemirror-model break schema identity.
    dedupe: ['yjs', 'lib0', 'y-protocols', 'react', 'react-dom', '@tiptap/pm', '@tiptap/core'],
  },
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
    // One chunk on purpose: a page that goes offline must still be able to
    // open the editor, so nothing is fetched lazily.
    chunkSizeWarningLimit: 1200,
    rolldownOptions: {
      onwarn(warning, warn) {
        // TipTap's React package starts with "use client" (for server
        // components); a client-only bundle has nothing to preserve.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return
        warn(warning)
      },
    },
  },
  server: {
    // `npm run dev -w @quire/web` against a node started with
    // `--public-origin http://127.0.0.1:5173` (the node checks Origin).
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/sync': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
})
