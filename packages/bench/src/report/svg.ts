/**
 * The latency-against-load chart: fan-out p95 (solid) and p99 (dashed) per
 * server against deliveries per second, as a small hand-written SVG.
 */
import type { ServerKind } from '../client/adapters.js'
import type { BenchResults } from '../results.js'

const WIDTH = 720
const HEIGHT = 420
const MARGIN = { left: 64, right: 190, top: 40, bottom: 56 }
const COLOURS: Readonly<Record<ServerKind, string>> = {
  'quire-embedded': '#1f77b4',
  'quire-postgres': '#2ca02c',
  hocuspocus: '#d62728',
  'y-websocket': '#9467bd',
}

const niceMax = (value: number): number => {
  if (value <= 0) return 1
  const step = 10 ** Math.floor(Math.log10(value))
  return Math.ceil(value / step) * step
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')

/** Renders the chart of `results.fanOut` as an SVG document. */
export const renderLatencyChart = (results: BenchResults): string => {
  const series = results.servers.map((kind) => {
    const points = results.fanOut.params
      .map((params) => results.fanOut.results[params.name]?.[kind]?.median)
      .filter((median) => median !== undefined)
      .map((median) => ({
        x: median.deliveriesPerSecond,
        p95: median.latency.p95Ms,
        p99: median.latency.p99Ms,
      }))
      .sort((a, b) => a.x - b.x)
    return { kind, points }
  })
  const all = series.flatMap((s) => s.points)
  const xMax = niceMax(Math.max(0, ...all.map((p) => p.x)))
  const yMax = niceMax(Math.max(0, ...all.map((p) => p.p99)))
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const sx = (x: number): number => MARGIN.left + (x / xMax) * plotW
  const sy = (y: number): number => MARGIN.top + plotH - (y / yMax) * plotH
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">Fan-out latency against load (medians of ${results.runsPerMeasurement} run(s))</text>`,
  ]
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5
    const x = (xMax * i) / 5
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${sy(y) + 4}" text-anchor="end">${Math.round(y * 10) / 10}</text>`,
      `<line x1="${sx(x)}" x2="${sx(x)}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${sx(x)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${Math.round(x)}</text>`,
    )
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 16}" text-anchor="middle">deliveries per second (one document)</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency, ms</text>`,
  )
  series.forEach(({ kind, points }, index) => {
    const colour = COLOURS[kind]
    for (const [field, dash] of [
      ['p95', ''],
      ['p99', ' stroke-dasharray="5 4"'],
    ] as const) {
      const path = points.map((p) => `${sx(p.x).toFixed(1)},${sy(p[field]).toFixed(1)}`).join(' ')
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`,
      )
      for (const p of points) {
        parts.push(
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p[field]).toFixed(1)}" r="3" fill="${colour}"/>`,
        )
      }
    }
    const ly = MARGIN.top + 10 + index * 20
    const lx = MARGIN.left + plotW + 14
    parts.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escape(kind)}</text>`,
    )
  })
  const ly = MARGIN.top + 10 + series.length * 20 + 10
  const lx = MARGIN.left + plotW + 14
  parts.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2"/>`,
    `<text x="${lx + 30}" y="${ly + 4}">p95</text>`,
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly + 18}" y2="${ly + 18}" stroke="#333" stroke-width="2" stroke-dasharray="5 4"/>`,
    `<text x="${lx + 30}" y="${ly + 22}">p99</text>`,
    '</svg>',
    '',
  )
  return parts.join('\n')
}
