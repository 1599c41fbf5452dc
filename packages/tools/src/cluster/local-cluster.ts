/**
 * A local cluster: N `quire serve` processes (each a sync node and a
 * persister) against one PostgreSQL and one Redis, behind nginx as a
 * round-robin WebSocket proxy. For users (`quire cluster`) and for the
 * fault tests, which kill, stop and restart its parts.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderNginxConfig } from './nginx-config.js'

/** Settings of `startLocalCluster`. */
export interface LocalClusterOptions {
  /** The command that runs `quire` (e.g. `[node, main.js]`); `serve ...` is appended. */
  readonly quireCommand: readonly string[]
  readonly databaseUrl: string
  readonly redisUrl: string
  /** Number of nodes. @default 3 */
  readonly nodes?: number
  /**
   * Number of separate persister processes (`--role persister`). With 0 every
   * node runs its own persister (`--role all`); with more, nodes run
   * `--role node`. @default 0
   */
  readonly persisters?: number
  /** Port nginx listens on; 0 picks a free one. @default 0 */
  readonly proxyPort?: number
  /** Extra `quire serve` flags for every node. */
  readonly serveArgs?: readonly string[]
  /** The nginx binary. @default /usr/sbin/nginx */
  readonly nginxPath?: string
  /** Where node output goes, line by line. @default discarded */
  readonly onOutput?: (nodeIndex: number, line: string) => void
}

/** One node of the cluster. */
export interface ClusterNode {
  readonly index: number
  readonly port: number
  readonly url: string
  readonly wsUrl: string
  readonly process: ChildProcess
  /** Resolves once the process exited. */
  readonly exited: Promise<void>
}

/** A running local cluster. */
export interface LocalCluster {
  /** WebSocket URL of nginx, e.g. `ws://127.0.0.1:8090`. */
  readonly proxyWsUrl: string
  readonly proxyUrl: string
  readonly nodes: readonly ClusterNode[]
  /** Separate persister processes (empty when nodes persist themselves). */
  readonly persisters: readonly ClusterNode[]
  /** Sends `signal` to persister `index` and resolves when it exited. */
  stopPersister(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Sends `signal` to node `index` and resolves when it exited. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Starts node `index` again on its port (after it stopped). */
  restartNode(index: number): Promise<ClusterNode>
  /** Stops every node (SIGTERM) and nginx. */
  stop(): Promise<void>
}

/** Finds a free TCP port on 127.0.0.1. */
export const findFreePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Starts the nodes, waits until each listens, then starts nginx in front of them. */
export const startLocalCluster = async (options: LocalClusterOptions): Promise<LocalCluster> => {
  const count = options.nodes ?? 3
  const persisterCount = options.persisters ?? 0
  const ports = await Promise.all(Array.from({ length: count }, () => findFreePort()))
  const nodes: ClusterNode[] = []
  const persisters: ClusterNode[] = []
  const nodeRole = persisterCount > 0 ? 'node' : 'all'
  const startNode = async (index: number): Promise<ClusterNode> => {
    const node = await spawnNode(options, index, ports[index] as number, nodeRole)
    nodes[index] = node
    return node
  }
  const killAll = (): Promise<void[]> =>
    Promise.all(
      [...nodes, ...persisters].map((node) => stopProcess(node.process, node.exited, 'SIGKILL')),
    )
  try {
    for (let index = 0; index < count; index++) await startNode(index)
    for (let index = 0; index < persisterCount; index++) {
      persisters[index] = await spawnNode(options, count + index, await findFreePort(), 'persister')
    }
  } catch (err) {
    await killAll()
    throw err
  }

  const prefixDir = await mkdtemp(join(tmpdir(), 'quire-nginx-'))
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    await mkdir(join(prefixDir, 'tmp', sub), { recursive: true })
  const proxyPort =
    options.proxyPort === undefined || options.proxyPort === 0
      ? await findFreePort()
      : options.proxyPort
  const configPath = join(prefixDir, 'nginx.conf')
  await writeFile(
    configPath,
    renderNginxConfig({ prefixDir, listenPort: proxyPort, nodePorts: ports }),
  )
  const nginx = spawn(
    options.nginxPath ?? '/usr/sbin/nginx',
    ['-p', prefixDir, '-c', configPath, '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    },
  )
  const nginxExited = new Promise<void>((resolve) => nginx.once('exit', () => resolve()))
  let nginxErrors = ''
  nginx.stderr?.on('data', (chunk: Buffer) => (nginxErrors += chunk.toString()))
  await waitForPort(proxyPort, 10_000).catch(async (err: unknown) => {
    await killAll()
    throw new Error(`nginx did not start: ${String(err)}\n${nginxErrors}`)
  })

  return {
    proxyWsUrl: `ws://127.0.0.1:${proxyPort}`,
    proxyUrl: `http://127.0.0.1:${proxyPort}`,
    get nodes() {
      return nodes
    },
    persisters,
    stopPersister: async (index, signal = 'SIGTERM') => {
      const persister = persisters[index]
      if (persister !== undefined) await stopProcess(persister.process, persister.exited, signal)
    },
    stopNode: async (index, signal = 'SIGTERM') => {
      const node = nodes[index]
      if (node !== undefined) await stopProcess(node.process, node.exited, signal)
    },
    restartNode: (index) => startNode(index),
    stop: async () => {
      await Promise.all(nodes.map((node) => stopProcess(node.process, node.exited, 'SIGTERM')))
      await Promise.all(persisters.map((node) => stopProcess(node.process, node.exited, 'SIGTERM')))
      await stopProcess(nginx, nginxExited, 'SIGQUIT')
      await rm(prefixDir, { recursive: true, force: true })
    },
  }
}

const spawnNode = async (
  options: LocalClusterOptions,
  index: number,
  port: number,
  role: 'all' | 'node' | 'persister',
): Promise<ClusterNode> => {
  const [command, ...prefix] = options.quireCommand
  if (command === undefined) throw new Error('quireCommand is empty')
  const child = spawn(
    command,
    [
      ...prefix,
      'serve',
      '--role',
      role,
      '--port',
      String(port),
      '--database-url',
      options.databaseUrl,
      '--redis-url',
      options.redisUrl,
      ...(options.serveArgs ?? []),
    ],
    // Its own process group: a Ctrl-C in the terminal reaches only the
    // cluster process, which then stops every node once, in order.
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env }, detached: true },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let output = ''
  const onChunk = (chunk: Buffer): void => {
    const text = chunk.toString()
    output = (output + text).slice(-20_000)
    for (const line of text.split('\n')) if (line !== '') options.onOutput?.(index, line)
  }
  child.stdout?.on('data', onChunk)
  child.stderr?.on('data', onChunk)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node ${index} did not start:\n${output}`)),
      30_000,
    )
    const check = (): void => {
      if (!output.includes('Quire is listening on')) return
      clearTimeout(timer)
      resolve()
    }
    child.stdout?.on('data', check)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`node ${index} exited before listening:\n${output}`))
    })
  })
  return {
    index,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    process: child,
    exited,
  }
}

const stopProcess = async (
  child: ChildProcess,
  exited: Promise<void>,
  signal: NodeJS.Signals,
): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  await exited
}

const waitForPort = async (port: number, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (isOpen) return
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
