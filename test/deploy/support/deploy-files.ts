/**
 * Reading deploy/ for its tests: the files themselves, the Kubernetes
 * objects in them, the environment a container would get, and the external
 * tools (promtool, nginx, openssl) run with their exit code and output.
 */
import { execFile } from 'node:child_process'
import { access, constants, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { REPO_ROOT } from '../../support/servers.js'
import { parseYamlDocuments, type YamlValue } from './yaml-subset.js'

export const DEPLOY_DIR = join(REPO_ROOT, 'deploy')

/** A parsed YAML mapping. */
export type Manifest = { readonly [key: string]: YamlValue }

/** The value at `path` (keys, or indexes of sequences) under `value`; undefined where the path breaks. */
export const pick = (value: unknown, ...path: readonly (string | number)[]): unknown => {
  let at = value
  for (const step of path) {
    if (Array.isArray(at) && typeof step === 'number') at = at[step]
    else if (isMapping(at) && typeof step === 'string' && Object.hasOwn(at, step)) at = at[step]
    else return undefined
  }
  return at
}

/** The sequence at `path`, or an empty one when there is none. */
export const list = (value: unknown, ...path: readonly (string | number)[]): unknown[] => {
  const found = pick(value, ...path)
  return Array.isArray(found) ? found : []
}

/** The mapping at `path`, or an empty one when there is none. */
export const mapping = (value: unknown, ...path: readonly (string | number)[]): Manifest => {
  const found = pick(value, ...path)
  return isMapping(found) ? found : {}
}

/** A Kubernetes object and the file it came from. */
export interface K8sObject {
  readonly file: string
  readonly kind: string
  readonly name: string
  readonly body: Manifest
}

/** Every object of every .yaml file under deploy/kubernetes. */
export const readKubernetesObjects = async (): Promise<K8sObject[]> => {
  const dir = join(DEPLOY_DIR, 'kubernetes')
  const objects: K8sObject[] = []
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const body of parseYamlDocuments(await readFile(join(dir, file), 'utf8'))) {
      if (!isMapping(body)) throw new Error(`${file}: a document that is not a mapping`)
      objects.push({
        file,
        kind: String(body.kind),
        name: String(pick(body, 'metadata', 'name')),
        body,
      })
    }
  }
  return objects
}

export const isMapping = (value: unknown): value is Manifest =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** An environment variable of a container: its name, where it comes from, and its value if resolvable. */
export interface EnvEntry {
  readonly name: string
  readonly source: string
  readonly value: unknown
}

/**
 * The environment `container` gets: `envFrom` ConfigMaps and Secrets first,
 * then `env`, literal values and `secretKeyRef`/`configMapKeyRef` resolved
 * against `objects`. Throws on a reference to an object or key that does not
 * exist.
 */
export const containerEnvironment = (
  container: unknown,
  objects: readonly K8sObject[],
): EnvEntry[] => {
  const dataOf = (kind: string, name: unknown): Manifest => {
    const object = objects.find((candidate) => candidate.kind === kind && candidate.name === name)
    if (object === undefined)
      throw new Error(`${kind} ${String(name)} is referenced but not defined`)
    return { ...mapping(object.body, 'data'), ...mapping(object.body, 'stringData') }
  }
  const entries: EnvEntry[] = []
  for (const from of list(container, 'envFrom')) {
    const kind = pick(from, 'configMapRef') === undefined ? 'Secret' : 'ConfigMap'
    const name = pick(from, kind === 'Secret' ? 'secretRef' : 'configMapRef', 'name')
    for (const [key, value] of Object.entries(dataOf(kind, name))) {
      entries.push({ name: key, source: `${kind} ${String(name)}`, value })
    }
  }
  for (const entry of list(container, 'env')) {
    const name = String(pick(entry, 'name'))
    const secretRef = pick(entry, 'valueFrom', 'secretKeyRef')
    const ref = secretRef ?? pick(entry, 'valueFrom', 'configMapKeyRef')
    if (ref === undefined) {
      entries.push({ name, source: 'env', value: pick(entry, 'value') })
      continue
    }
    const kind = secretRef === undefined ? 'ConfigMap' : 'Secret'
    const data = dataOf(kind, pick(ref, 'name'))
    const key = String(pick(ref, 'key'))
    if (!Object.hasOwn(data, key))
      throw new Error(`${kind} ${String(pick(ref, 'name'))} has no key ${key}`)
    entries.push({ name, source: `${kind} ${String(pick(ref, 'name'))}`, value: data[key] })
  }
  return entries
}

/** Outcome of an external command. */
export interface RunResult {
  readonly code: number
  readonly output: string
}

/** Runs `command` and resolves with its exit code and combined output; never rejects on a failure exit. */
export const run = (
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string } = {},
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd: options.cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`
      if (err === null) return resolve({ code: 0, output })
      if (typeof err.code === 'number') return resolve({ code: err.code, output })
      reject(new Error(`${command} could not run: ${err.message}\n${output}`))
    })
  })

/**
 * `path` if it is an executable; otherwise fails with how to install it.
 * These checks never skip: CI installs the tools (.ci/run).
 */
export const requireTool = async (path: string, debianPackage: string): Promise<string> => {
  try {
    await access(path, constants.X_OK)
    return path
  } catch {
    throw new Error(
      `${path} is missing: the deploy tests need it (apt-get install -y ${debianPackage}; .ci/run installs it)`,
    )
  }
}
