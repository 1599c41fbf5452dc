/**
 * What the results were measured on and against: the machine (CPU model,
 * cores, RAM, Node.js) and the exact version of every benchmarked server.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './servers/launch.js'

/** The machine a benchmark ran on. */
export interface MachineDescription {
  readonly cpuModel: string
  readonly cores: number
  readonly ramGiB: number
  readonly node: string
  readonly kernel: string
}

/** Exact versions of the servers and shared libraries. */
export interface ServerVersions {
  readonly quire: string
  readonly hocuspocusServer: string
  readonly yWebsocketServer: string
  readonly yjs: string
  readonly ws: string
}

/** Reads /proc/cpuinfo, os and process for the machine's description. */
export const describeMachine = (): MachineDescription => {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match?.[1] !== undefined) cpuModel = match[1].trim()
  } catch {
    // Not Linux: the os module's model stands.
  }
  return {
    cpuModel,
    cores: cpus().length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: readKernel(),
  }
}

const readKernel = (): string => {
  try {
    return execFileSync('uname', ['-sr']).toString().trim()
  } catch {
    return 'unknown'
  }
}

/** The installed version, read from the hoisted manifest (not every package exports it). */
const versionOf = (name: string): string => {
  for (const dir of ['packages/bench/node_modules', 'node_modules']) {
    try {
      const path = join(REPO_ROOT, dir, name, 'package.json')
      return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
    } catch {
      // Not installed here: try the next folder.
    }
  }
  return 'not installed'
}

const quireVersion = (): string => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    version: string
  }
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
    return `${manifest.version} (${commit.toString().trim()})`
  } catch {
    return manifest.version
  }
}

/** Versions as installed (node_modules), not as requested. */
export const readServerVersions = (): ServerVersions => ({
  quire: quireVersion(),
  hocuspocusServer: versionOf('@hocuspocus/server'),
  yWebsocketServer: versionOf('@y/websocket-server'),
  yjs: versionOf('yjs'),
  ws: versionOf('ws'),
})
