/**
 * `quire cluster`: three nodes and nginx on this machine, against its
 * PostgreSQL and Redis, until Ctrl-C.
 */
import { parseArgs } from 'node:util'
import pg from 'pg'
import { startLocalCluster } from '@quire/tools'

const HELP = `Usage: quire cluster [options]

Starts N quire sync nodes and a persister on free ports and
nginx (/usr/sbin/nginx) in front of them as a round-robin WebSocket proxy
with no stickiness. Stops everything on Ctrl-C or SIGTERM.

Options:
  --nodes <n>          number of nodes (default 3)
  --persisters <n>     separate persister processes (default 1; 0 makes
                       every node persist too)
  --port <n>           port nginx listens on (default 8090)
  --database-url <url> PostgreSQL database (default $DATABASE_URL or
                       postgres://postgres@127.0.0.1:5432/quire_cluster,
                       created when missing)
  --redis-url <url>    Redis (default $REDIS_URL or redis://127.0.0.1:6379)
  --auth <mode>        required or none (default none: a local test cluster
                       that anyone on this machine may use, as trace replays need)
  --help               show this help`

/** Runs the command; resolves with the exit code once stopped. */
export const runCluster = async (argv: readonly string[]): Promise<number> => {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        nodes: { type: 'string' },
        persisters: { type: 'string' },
        port: { type: 'string' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        auth: { type: 'string' },
        help: { type: 'boolean' },
      },
    }))
  } catch (err) {
    process.stderr.write(`quire cluster: ${(err as Error).message}\n\n${HELP}\n`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`)
    return 0
  }
  const nodes = Number(values.nodes ?? 3)
  const persisters = Number(values.persisters ?? 1)
  const port = Number(values.port ?? 8090)
  if (
    !Number.isInteger(nodes) ||
    nodes < 1 ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    process.stderr.write('quire cluster: --nodes and --port must be positive integers\n')
    return 2
  }
  const databaseUrl =
    values['database-url'] ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/quire_cluster'
  const redisUrl = values['redis-url'] ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  await ensureDatabase(databaseUrl)

  const cluster = await startLocalCluster({
    // Run nodes the way this process was run (built JS, or TypeScript through tsx).
    quireCommand: [process.execPath, ...process.execArgv, process.argv[1] as string],
    databaseUrl,
    redisUrl,
    nodes,
    persisters,
    proxyPort: port,
    serveArgs: ['--auth', values.auth ?? 'none'],
    onOutput: (index, line) => {
      if (!line.startsWith('{')) process.stderr.write(`node ${index}: ${line}\n`)
    },
  })
  process.stdout.write(
    `Quire cluster: ${cluster.nodes.map((node) => node.url).join(', ')}\n` +
      `nginx (round-robin, no stickiness): ${cluster.proxyUrl} — clients connect to ${cluster.proxyWsUrl}/sync/<document>\n` +
      'Ctrl-C stops everything.\n',
  )
  await new Promise<void>((resolve) => {
    // `on`, not `once`: a second Ctrl-C while stopping must not kill this
    // process before it has stopped the nodes and nginx.
    process.on('SIGINT', () => resolve())
    process.on('SIGTERM', () => resolve())
  })
  process.stdout.write('stopping the cluster\n')
  await cluster.stop()
  return 0
}

/** Creates the database named in `url` if it does not exist yet. */
const ensureDatabase = async (url: string): Promise<void> => {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!/^[A-Za-z0-9_]+$/.test(name)) return
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (rowCount === 0) await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
}
