#!/usr/bin/env node
/**
 * The `quire` command: `quire serve` runs a node, `quire replay` replays a
 * recorded editing trace through running nodes.
 */
import { runCluster } from './cluster-command.js'
import { runDeadLetters } from './dead-letters-command.js'
import { runHistory } from './history-command.js'
import { runImportLegacy } from './import-legacy-command.js'
import { runServe } from './serve-command.js'
import { runReplayCommand } from '@quire/tools'

const USAGE = `Usage: quire <command> [options]

Commands:
  serve     start a Quire node (quire serve --help)
  replay    replay an editing trace through running nodes (quire replay --help)
  cluster   run 3 nodes behind nginx on this machine (quire cluster --help)
  dead-letters  list or retry updates the database refused (quire dead-letters --help)
  history   prune old history now, as the retention policy says (quire history --help)
  import-legacy  import the old design's HTML snapshots, each once (quire import-legacy --help)
`

const main = async (argv: readonly string[]): Promise<number> => {
  const [command, ...rest] = argv
  switch (command) {
    case 'serve':
      return runServe(rest)
    case 'replay':
      return runReplayCommand(rest)
    case 'cluster':
      return runCluster(rest)
    case 'dead-letters':
      return runDeadLetters(rest)
    case 'history':
      return runHistory(rest)
    case 'import-legacy':
      return runImportLegacy(rest)
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE)
      return command === undefined ? 2 : 0
    default:
      process.stderr.write(`quire: unknown command '${command}'\n\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Anything still open (a stuck socket) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 2_000).unref()
  },
  (err: unknown) => {
    // Operational failures (a port in use, a refused connection) get one
    // line; anything else is a bug and gets its stack.
    const code = (err as { code?: unknown } | null)?.code
    const isOperational = typeof code === 'string' && /^E[A-Z]+$/.test(code)
    const detail =
      err instanceof Error
        ? isOperational
          ? err.message
          : (err.stack ?? err.message)
        : String(err)
    process.stderr.write(`quire: ${detail}\n`)
    process.exit(1)
  },
)
