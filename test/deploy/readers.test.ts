/**
 * The readers the deploy tests rely on: the strict YAML subset and the
 * metric names of a PromQL expression. A reader that misread a file would
 * let a wrong manifest or rule pass.
 */
import { describe, expect, it } from 'vitest'
import { metricNamesIn } from './support/promql-names.js'
import { parseYamlDocuments } from './support/yaml-subset.js'

describe('parseYamlDocuments', () => {
  it('reads mappings, sequences of mappings, scalars and documents', () => {
    const text = [
      '# comment',
      'kind: Deployment',
      'spec:',
      '  replicas: 3   # trailing comment',
      '  env:',
      '    - name: PORT',
      "      value: '8080'",
      '    - name: URL',
      '      value: "postgres://a:b@c/d"',
      '  args: [a, "b, c"]',
      '  on: true',
      '  empty:',
      '---',
      'expr: |',
      '  up == 0',
      '  # not a comment here',
      'text: >-',
      '  one',
      '  two',
    ].join('\n')
    expect(parseYamlDocuments(text)).toEqual([
      {
        kind: 'Deployment',
        spec: {
          replicas: 3,
          env: [
            { name: 'PORT', value: '8080' },
            { name: 'URL', value: 'postgres://a:b@c/d' },
          ],
          args: ['a', 'b, c'],
          on: true,
          empty: null,
        },
      },
      { expr: 'up == 0\n# not a comment here\n', text: 'one two' },
    ])
  })

  it('refuses what it does not understand instead of guessing', () => {
    for (const text of [
      'a: &anchor 1',
      'a: *alias',
      'a: !!str 1',
      'a: { b: 1 }',
      'a: [[1]]',
      'a: 1\na: 2',
      'a:\n\t- 1',
      'a: 1\n  b: 2',
    ]) {
      expect(() => parseYamlDocuments(text), text).toThrow(/line \d+/)
    }
  })
})

describe('metricNamesIn', () => {
  it('finds metric names, not functions, labels, keywords or numbers', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (job, le) (rate(quire_fanout_seconds_bucket{job="a", le!~"x"}[5m]))) > 0.05' +
          ' and on (job) up offset 1m > 1e9 unless max without (instance) (b:recorded{reason=~"a|b"})',
      ),
    ).toEqual(['quire_fanout_seconds_bucket', 'up', 'b:recorded'])
    expect(metricNamesIn('rate(x_total{instance=~"$instance"}[$__rate_interval])')).toEqual([
      'x_total',
    ])
  })
})
