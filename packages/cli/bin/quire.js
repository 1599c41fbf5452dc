#!/usr/bin/env node
// The `quire` command. npm links this file at install time, before the
// TypeScript is built; it loads the build (`npm run build`, or `npm start`).
import { existsSync } from 'node:fs'

const main = new URL('../dist/main.js', import.meta.url)
if (!existsSync(main)) {
  process.stderr.write('quire: not built yet; run `npm run build` in the repository first\n')
  process.exit(1)
}
await import(main.href)
