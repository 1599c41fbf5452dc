/**
 * deploy/ against the server it deploys: the Kubernetes manifests name only
 * real settings of `quire serve`, with values its own config resolver
 * accepts; probes, ports and the grace period match the server's behaviour;
 * the Prometheus config, the alert rules and their unit tests pass promtool;
 * nginx accepts the proxy config; and every metric the alerts and the
 * dashboard read is one a running node serves. The tools are required, never
 * skipped: CI installs them (.ci/run).
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CloseCode } from '@quire/protocol'
import { resolveServeConfig, SERVE_OPTIONS, type ServeConfig } from '@quire/server'
import { closeReasonLabel } from '../../packages/server/src/metrics/index.js'
import { startTestServer, type TestServer } from '../support/servers.js'
import {
  containerEnvironment,
  DEPLOY_DIR,
  type K8sObject,
  list,
  mapping,
  pick,
  readKubernetesObjects,
  requireTool,
  run,
} from './support/deploy-files.js'
import { metricNamesIn } from './support/promql-names.js'
import { parseYamlDocuments } from './support/yaml-subset.js'

const PROMTOOL = process.env.QUIRE_PROMTOOL ?? '/usr/bin/promtool'
const NGINX = process.env.QUIRE_NGINX ?? '/usr/sbin/nginx'
const OPENSSL = '/usr/bin/openssl'
const PROMETHEUS_DIR = join(DEPLOY_DIR, 'prometheus')

/** Series the alerts may read that no Quire process serves, and who provides them. */
const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  up: 'Prometheus itself, per scrape target',
  kube_pod_status_ready: 'kube-state-metrics',
}

const SETTING_NAMES = new Set<string>(Object.values(SERVE_OPTIONS).map((spec) => spec.env))

const deploymentsOf = (objects: readonly K8sObject[]): K8sObject[] =>
  objects.filter((object) => object.kind === 'Deployment')

const deploymentNamed = (objects: readonly K8sObject[], name: string): K8sObject => {
  const found = deploymentsOf(objects).find((candidate) => candidate.name === name)
  if (found === undefined) throw new Error(`no Deployment ${name}`)
  return found
}

/** The one container of a Deployment's pods. */
const containerOf = (deployment: K8sObject): unknown => {
  const containers = list(deployment.body, 'spec', 'template', 'spec', 'containers')
  expect(containers, `${deployment.name} runs one container`).toHaveLength(1)
  return containers[0]
}

/** The environment a Deployment's container gets, resolved by the server as it would at start. */
const configOf = (deployment: K8sObject, objects: readonly K8sObject[]): ServeConfig => {
  const env = Object.fromEntries(
    containerEnvironment(containerOf(deployment), objects).map((entry) => [
      entry.name,
      entry.value,
    ]),
  ) as Record<string, string>
  return resolveServeConfig({}, env)
}

describe('deploy/kubernetes', () => {
  let objects: K8sObject[]
  beforeAll(async () => {
    objects = await readKubernetesObjects()
  })

  it('lists every manifest in its kustomization', async () => {
    const kustomization = objects.find((object) => object.kind === 'Kustomization')
    const files = new Set(objects.map((object) => object.file))
    files.delete('kustomization.yaml')
    expect(new Set(list(kustomization?.body, 'resources'))).toEqual(files)
  })

  it('defines a node and a persister Deployment, each with its role', () => {
    const roles = deploymentsOf(objects).map((deployment) => [
      deployment.name,
      configOf(deployment, objects).role,
      pick(
        deployment.body,
        'spec',
        'template',
        'metadata',
        'labels',
        'app.kubernetes.io/component',
      ),
    ])
    expect(roles.sort()).toEqual([
      ['quire-node', 'node', 'node'],
      ['quire-persister', 'persister', 'persister'],
    ])
  })

  it('names only environment variables that are settings of quire serve, as strings', () => {
    const secretKeys = objects
      .filter((object) => object.kind === 'Secret' || object.kind === 'ConfigMap')
      .flatMap((object) => [
        ...Object.entries(mapping(object.body, 'data')),
        ...Object.entries(mapping(object.body, 'stringData')),
      ])
      .map(([name, value]) => ({ name, value, source: 'a ConfigMap or Secret' }))
    const used = deploymentsOf(objects).flatMap((deployment) =>
      containerEnvironment(containerOf(deployment), objects),
    )
    expect(used.length).toBeGreaterThan(10)
    for (const entry of [...secretKeys, ...used]) {
      expect(SETTING_NAMES, `${entry.name} (${entry.source}) is a setting`).toContain(entry.name)
      // Kubernetes refuses a number or boolean as an environment value.
      expect(typeof entry.value, `${entry.name} (${entry.source}) is a string`).toBe('string')
    }
  })

  it('holds values the server accepts, connected to PostgreSQL and Redis', () => {
    for (const deployment of deploymentsOf(objects)) {
      const config = configOf(deployment, objects)
      expect(config.databaseUrl, deployment.name).toMatch(/^postgres/)
      expect(config.redisUrl, deployment.name).toMatch(/^redis/)
      expect(config.host, `${deployment.name} listens on the pod's address`).toBe('0.0.0.0')
    }
  })

  it('probes /healthz for liveness and /readyz for readiness on the port the server listens on', () => {
    for (const deployment of deploymentsOf(objects)) {
      const container = containerOf(deployment)
      const { port } = configOf(deployment, objects)
      const ports = list(container, 'ports')
      const portNumber = (ref: unknown): unknown =>
        typeof ref === 'number'
          ? ref
          : pick(
              ports.find((candidate) => pick(candidate, 'name') === ref),
              'containerPort',
            )
      expect(ports.map((entry) => pick(entry, 'containerPort'))).toEqual([port])
      expect(pick(container, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz')
      expect(portNumber(pick(container, 'livenessProbe', 'httpGet', 'port'))).toBe(port)
      expect(pick(container, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz')
      expect(portNumber(pick(container, 'readinessProbe', 'httpGet', 'port'))).toBe(port)

      const annotations = mapping(deployment.body, 'spec', 'template', 'metadata', 'annotations')
      expect(annotations['prometheus.io/scrape'], deployment.name).toBe('true')
      expect(annotations['prometheus.io/port'], deployment.name).toBe(String(port))
      expect(annotations['prometheus.io/path'], deployment.name).toBe('/metrics')
    }
  })

  it('gives each pod longer to stop than its preStop pause plus --shutdown-timeout-ms', () => {
    for (const deployment of deploymentsOf(objects)) {
      const { shutdownTimeoutMs } = configOf(deployment, objects)
      const preStop = list(containerOf(deployment), 'lifecycle', 'preStop', 'exec', 'command')
      const preStopMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0
      expect(Number.isNaN(preStopMs), `${deployment.name} preStop`).toBe(false)
      const graceSeconds = pick(
        deployment.body,
        'spec',
        'template',
        'spec',
        'terminationGracePeriodSeconds',
      )
      expect(typeof graceSeconds).toBe('number')
      expect(
        (graceSeconds as number) * 1000,
        `${deployment.name}: grace vs ${preStopMs} ms preStop + ${shutdownTimeoutMs} ms shutdown`,
      ).toBeGreaterThan(preStopMs + shutdownTimeoutMs)
    }
  })

  it('points the Service, the autoscaler and the disruption budgets at the right pods', () => {
    const podLabels = (name: string): Record<string, unknown> =>
      mapping(deploymentNamed(objects, name).body, 'spec', 'template', 'metadata', 'labels')
    const selects = (selector: Record<string, unknown>, name: string): boolean =>
      Object.entries(selector).every(([key, value]) => podLabels(name)[key] === value)
    const byKind = (kind: string): K8sObject[] => objects.filter((object) => object.kind === kind)

    const [service] = byKind('Service')
    expect(selects(mapping(service?.body, 'spec', 'selector'), 'quire-node')).toBe(true)
    expect(selects(mapping(service?.body, 'spec', 'selector'), 'quire-persister')).toBe(false)
    const targetPort = pick(service?.body, 'spec', 'ports', 0, 'targetPort')
    const nodePorts = list(containerOf(deploymentNamed(objects, 'quire-node')), 'ports')
    expect(nodePorts.some((port) => pick(port, 'name') === targetPort)).toBe(true)

    const [hpa] = byKind('HorizontalPodAutoscaler')
    expect(pick(hpa?.body, 'apiVersion')).toBe('autoscaling/v2')
    expect(mapping(hpa?.body, 'spec', 'scaleTargetRef')).toMatchObject({
      kind: 'Deployment',
      name: 'quire-node',
    })
    expect(
      list(hpa?.body, 'spec', 'metrics').map((metric) => pick(metric, 'resource', 'name')),
    ).toContain('cpu')

    const budgets = byKind('PodDisruptionBudget')
    for (const name of ['quire-node', 'quire-persister']) {
      const covering = budgets.filter((budget) =>
        selects(mapping(budget.body, 'spec', 'selector', 'matchLabels'), name),
      )
      expect(covering, `one budget covers ${name}`).toHaveLength(1)
    }
  })

  it('labels and annotates the pods as deploy/prometheus/prometheus.yml keeps them', async () => {
    const [config] = parseYamlDocuments(
      await readFile(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8'),
    )
    const job = list(config, 'scrape_configs').find((entry) => pick(entry, 'job_name') === 'quire')
    const keeps = list(job, 'relabel_configs').filter((rule) => pick(rule, 'action') === 'keep')
    expect(keeps).toHaveLength(2)
    for (const deployment of deploymentsOf(objects)) {
      const template = pick(deployment.body, 'spec', 'template', 'metadata')
      for (const rule of keeps) {
        const [source] = list(rule, 'source_labels') as string[]
        const value = metaValue(template, source ?? '')
        expect(value, `${deployment.name} ${source}`).toMatch(
          new RegExp(`^(?:${String(pick(rule, 'regex'))})$`),
        )
      }
    }
  })
})

/** What Prometheus's Kubernetes discovery reports as `source` for a pod with `metadata`. */
const metaValue = (metadata: unknown, source: string): string => {
  const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_')
  for (const [prefix, field] of [
    ['__meta_kubernetes_pod_label_', 'labels'],
    ['__meta_kubernetes_pod_annotation_', 'annotations'],
  ] as const) {
    if (!source.startsWith(prefix)) continue
    const wanted = source.slice(prefix.length)
    const found = Object.entries(mapping(metadata, field)).find(([key]) => sanitize(key) === wanted)
    return String(found?.[1] ?? '')
  }
  throw new Error(`unexpected source label ${source}`)
}

describe('deploy/prometheus', () => {
  it('passes promtool check config, rule files included', async () => {
    const promtool = await requireTool(PROMTOOL, 'prometheus')
    const original = await run(promtool, ['check', 'config', 'prometheus.yml'], {
      cwd: PROMETHEUS_DIR,
    })
    if (original.code === 0) return
    // Debian's promtool is built without Kubernetes discovery: it refuses the
    // field and nothing else. Check everything else with the pod discovery
    // swapped for an empty static list.
    expect(original.output).toMatch(/field kubernetes_sd_configs not found/)
    const dir = await mkdtemp(join(tmpdir(), 'quire-promtool-'))
    try {
      const text = await readFile(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')
      const swapped = text.replace(
        /^( +)kubernetes_sd_configs:\n +- role: pod\n/m,
        '$1static_configs:\n$1  - targets: []\n',
      )
      expect(swapped, 'the pod discovery block was found').not.toBe(text)
      await writeFile(join(dir, 'prometheus.yml'), swapped)
      await copyFile(join(PROMETHEUS_DIR, 'alerts.yml'), join(dir, 'alerts.yml'))
      const checked = await run(promtool, ['check', 'config', 'prometheus.yml'], { cwd: dir })
      expect(checked.output).toMatch(/SUCCESS: 1 rule files found/)
      expect(checked.code, checked.output).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('passes promtool check rules', async () => {
    const promtool = await requireTool(PROMTOOL, 'prometheus')
    const result = await run(promtool, ['check', 'rules', 'alerts.yml'], { cwd: PROMETHEUS_DIR })
    expect(result.code, result.output).toBe(0)
  })

  it('passes its promtool unit tests', async () => {
    const promtool = await requireTool(PROMTOOL, 'prometheus')
    const result = await run(promtool, ['test', 'rules', 'alerts.test.yml'], {
      cwd: PROMETHEUS_DIR,
    })
    expect(result.code, result.output).toBe(0)
    expect(result.output).toMatch(/SUCCESS/)
  })

  it('gives every alert a for:, a severity, a summary and a description, and a test that fires it', async () => {
    const rules = await readAlertRules()
    const tests = await readFile(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')
    expect(rules.length).toBeGreaterThanOrEqual(15)
    for (const rule of rules) {
      const name = String(pick(rule, 'alert'))
      expect(pick(rule, 'for'), name).toMatch(/^\d+[smh]$/)
      expect(['critical', 'warning', 'info'], name).toContain(pick(rule, 'labels', 'severity'))
      expect(pick(rule, 'annotations', 'summary'), name).toEqual(expect.any(String))
      expect(pick(rule, 'annotations', 'description'), name).toEqual(expect.any(String))
      const fires = new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`)
      expect(tests, `a test fires ${name}`).toMatch(fires)
    }
  })
})

/** Every alerting rule of alerts.yml. */
const readAlertRules = async (): Promise<unknown[]> => {
  const [alerts] = parseYamlDocuments(await readFile(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8'))
  return list(alerts, 'groups').flatMap((group) => list(group, 'rules'))
}

describe('deploy/nginx', () => {
  it('passes nginx -t, TLS included', async () => {
    const nginx = await requireTool(NGINX, 'nginx')
    const openssl = await requireTool(OPENSSL, 'openssl')
    const dir = await mkdtemp(join(tmpdir(), 'quire-nginx-test-'))
    try {
      // A throwaway certificate where the example names its certificate.
      const made = await run(openssl, [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
        ...[
          '-subj',
          '/CN=docs.example.com',
          '-keyout',
          join(dir, 'tls.key'),
          '-out',
          join(dir, 'tls.crt'),
        ],
      ])
      expect(made.code, made.output).toBe(0)
      const text = await readFile(join(DEPLOY_DIR, 'nginx', 'quire.conf'), 'utf8')
      const local = text
        .replace(/^(\s*ssl_certificate) \S+;/m, `$1 ${join(dir, 'tls.crt')};`)
        .replace(/^(\s*ssl_certificate_key) \S+;/m, `$1 ${join(dir, 'tls.key')};`)
      expect(local.match(new RegExp(dir, 'g'))).toHaveLength(2)
      await writeFile(join(dir, 'quire.conf'), local)
      await writeFile(join(dir, 'nginx.conf'), wrapperConfig(dir))
      const result = await run(nginx, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')])
      expect(result.code, result.output).toBe(0)
      expect(result.output).toMatch(/test is successful/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses /metrics, upgrades /sync/ and outlasts the ping interval', async () => {
    const text = await readFile(join(DEPLOY_DIR, 'nginx', 'quire.conf'), 'utf8')
    const block = (location: string): string => {
      const at = text.indexOf(`location ${location} {`)
      expect(at, `location ${location}`).toBeGreaterThan(-1)
      return text.slice(at, text.indexOf('\n  }', at))
    }
    expect(block('= /metrics')).toMatch(/deny all;/)
    const sync = block('/sync/')
    expect(sync).toMatch(/proxy_set_header Upgrade \$http_upgrade;/)
    expect(sync).toMatch(/proxy_set_header Connection \$\w+;/)
    expect(sync).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/)
    expect(text).toMatch(/proxy_http_version 1\.1;/)
    expect(block('/api/')).toMatch(/proxy_cache off;/)

    // The node pings every --ping-interval-ms: the proxy must wait longer.
    const configMap = (await readKubernetesObjects()).find((object) => object.kind === 'ConfigMap')
    const env = mapping(configMap?.body, 'data') as Record<string, string>
    const { pingIntervalMs } = resolveServeConfig({}, env)
    const readTimeout = /proxy_read_timeout (\d+)s;/.exec(sync)?.[1]
    expect(Number(readTimeout) * 1000).toBeGreaterThan(pingIntervalMs * 2)
  })
})

/** nginx.conf around the example: everything nginx writes stays in `dir`. */
const wrapperConfig = (dir: string): string => `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/quire.conf;
}
`

describe('metrics named in the alerts and the dashboard', () => {
  let server: TestServer
  let served: Set<string>
  let alertExprs: string[]
  let dashboardExprs: string[]
  beforeAll(async () => {
    server = await startTestServer({ store: 'embedded' })
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    served = namesInExposition(await response.text())
    alertExprs = (await readAlertRules()).map((rule) => String(pick(rule, 'expr')))
    dashboardExprs = dashboardQueries(
      JSON.parse(await readFile(join(DEPLOY_DIR, 'grafana', 'quire-dashboard.json'), 'utf8')),
    )
  })
  afterAll(async () => {
    await server?.dispose()
  })

  it('are served by a running node', () => {
    const named = new Set([...alertExprs, ...dashboardExprs].flatMap(metricNamesIn))
    expect(named.size, [...named].join(' ')).toBeGreaterThan(15)
    for (const name of named) {
      if (Object.hasOwn(EXTERNAL_METRICS, name)) continue
      expect(served, `${name} is on /metrics`).toContain(name)
    }
  })

  it('cover every Quire metric on the dashboard', () => {
    const onDashboard = new Set(dashboardExprs.flatMap(metricNamesIn).map(baseName))
    const quire = [...served].filter((name) => name.startsWith('quire_')).map(baseName)
    expect(quire.length).toBeGreaterThan(5)
    for (const name of quire) expect(onDashboard, `${name} on the dashboard`).toContain(name)
  })

  it('select only close reasons the node reports', () => {
    const reasons = new Set([1000, 1005, 1006, ...Object.values(CloseCode)].map(closeReasonLabel))
    const named = [...alertExprs, ...dashboardExprs].flatMap((expr) =>
      [...expr.matchAll(/reason\s*(?:=|=~|!=|!~)\s*"([^"]*)"/g)].flatMap((match) =>
        (match[1] ?? '').split('|'),
      ),
    )
    expect(named).toContain('abnormal')
    for (const reason of named) expect(reasons, `reason ${reason}`).toContain(reason)
  })
})

describe('deploy/grafana', () => {
  it('queries a Prometheus data source variable from every panel', async () => {
    const dashboard: unknown = JSON.parse(
      await readFile(join(DEPLOY_DIR, 'grafana', 'quire-dashboard.json'), 'utf8'),
    )
    expect(pick(dashboard, 'schemaVersion')).toBe(39)
    const variables = list(dashboard, 'templating', 'list')
    expect(variables).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    )
    const panels = list(dashboard, 'panels').filter((panel) => pick(panel, 'type') !== 'row')
    expect(panels.length).toBeGreaterThan(15)
    const ids = list(dashboard, 'panels').map((panel) => pick(panel, 'id'))
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length)
    for (const panel of panels) {
      const title = String(pick(panel, 'title'))
      expect(pick(panel, 'datasource', 'uid'), title).toBe('${datasource}')
      for (const target of list(panel, 'targets')) {
        expect(pick(target, 'datasource', 'uid'), title).toBe('${datasource}')
      }
    }
  })
})

/** Names in Prometheus text: each family's samples, histograms as _bucket, _sum and _count. */
const namesInExposition = (text: string): Set<string> => {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line)
    if (type !== null) {
      const [, name, kind] = type as unknown as [string, string, string]
      names.add(name)
      if (kind === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
      if (kind === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
    } else if (line !== '' && !line.startsWith('#')) {
      names.add(/^[a-zA-Z_:][\w:]*/.exec(line)?.[0] ?? line)
    }
  }
  return names
}

/** A histogram's family name from one of its series names. */
const baseName = (name: string): string => name.replace(/_(?:bucket|sum|count)$/, '')

/** Every PromQL query of a Grafana dashboard: panel targets (rows included) and query variables. */
const dashboardQueries = (dashboard: unknown): string[] => {
  const panels = list(dashboard, 'panels').flatMap((panel) => [panel, ...list(panel, 'panels')])
  const targets = panels.flatMap((panel) =>
    list(panel, 'targets').map((target) => pick(target, 'expr')),
  )
  // Grafana's label_values(metric, label): the metric is PromQL, the label is not.
  const variables = list(dashboard, 'templating', 'list').map((variable) => {
    const query = pick(variable, 'query', 'query')
    return typeof query === 'string' ? query.replace(/^label_values\((.+),\s*\w+\)$/, '$1') : query
  })
  return [...targets, ...variables].filter((expr): expr is string => typeof expr === 'string')
}
