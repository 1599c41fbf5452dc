/**
 * `quire serve`: parses flags, starts a node, and stops it gracefully on
 * SIGTERM or SIGINT (flush everything accepted, then exit).
 */
import { parseArgs } from 'node:util'
import {
  ConfigError,
  resolveServeConfig,
  SERVE_OPTIONS,
  type ServeOptionName,
  startQuireServer,
} from '@quire/server'

/** The `--help` text of `quire serve`, built from the option table. */
export const serveHelp = (): string => {
  const lines = ['Usage: quire serve [options]', '', 'Starts a Quire node.', '', 'Options:']
  for (const spec of Object.values(SERVE_OPTIONS)) {
    const flag = `  --${spec.flag} <${spec.kind === 'integer' ? 'n' : 'value'}>`
    // A flag too long for the column gets its help on the next line.
    const head = flag.length < 36 ? flag.padEnd(36) : `${flag}\n${''.padEnd(36)}`
    lines.push(`${head}${spec.help}`, `${''.padEnd(36)}env: ${spec.env}`)
  }
  lines.push(`  ${'--help'.padEnd(34)}show this help`)
  return lines.join('\n')
}

/** Runs `quire serve` with `argv` (the arguments after `serve`); returns the exit code. */
export const runServe = async (argv: readonly string[]): Promise<number> => {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } }
  for (const spec of Object.values(SERVE_OPTIONS)) options[spec.flag] = { type: 'string' }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: false, strict: true })
  } catch (err) {
    process.stderr.write(`quire serve: ${(err as Error).message}\n\n${serveHelp()}\n`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${serveHelp()}\n`)
    return 0
  }

  const flags: Partial<Record<ServeOptionName, string>> = {}
  for (const [name, spec] of Object.entries(SERVE_OPTIONS) as [
    ServeOptionName,
    { flag: string },
  ][]) {
    const value = parsed.values[spec.flag]
    if (typeof value === 'string') flags[name] = value
  }
  let config
  try {
    config = resolveServeConfig(flags, process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`quire serve: ${err.message}\n`)
      return 2
    }
    throw err
  }

  const server = await startQuireServer(config)
  process.stdout.write(`Quire is listening on ${server.url}\n`)
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      const deadline = setTimeout(() => {
        process.stderr.write(
          `quire serve: shutdown took longer than ${config.shutdownTimeoutMs} ms\n`,
        )
        resolve(1)
      }, config.shutdownTimeoutMs)
      deadline.unref()
      process.stderr.write(`quire serve: ${signal}, shutting down\n`)
      server.close().then(
        () => {
          clearTimeout(deadline)
          resolve(0)
        },
        (err: unknown) => {
          process.stderr.write(`quire serve: shutdown failed: ${String(err)}\n`)
          resolve(1)
        },
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}
