/**
 * The metric names a PromQL expression reads, for checking alert rules and
 * dashboard queries against a real scrape. Strings, label matchers, ranges,
 * grouping clauses, offsets, numbers and Grafana variables are removed first; what
 * remains that is not a function call or a keyword is a metric name.
 */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
])

/** Metric names in `expr`, each once, in order of appearance. */
export const metricNamesIn = (expr: string): string[] => {
  const bare = expr
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+-?(?:\d+[smhdwy]+)+/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:])(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w:])/gi, ' ')
  const names: string[] = []
  for (const match of bare.matchAll(/[a-zA-Z_:][\w:]*(?!\s*\(|[\w:])/g)) {
    const name = match[0]
    if (!KEYWORDS.has(name.toLowerCase()) && !names.includes(name)) names.push(name)
  }
  return names
}
