/**
 * Loaded into every benchmarked server process (`node --expose-gc --import
 * probe.ts ...`): a tiny HTTP endpoint on `BENCH_PROBE_PORT` that answers
 * `GET /stats` with the process's heap and RSS after two full garbage
 * collections, so every server's memory is read the same way. The endpoint
 * listens on 127.0.0.1 only and costs nothing until asked.
 */
import { createServer } from 'node:http'

/** What `GET /stats` answers. */
export interface ProbeStats {
  readonly heapUsedBytes: number
  readonly rssBytes: number
  readonly externalBytes: number
  readonly arrayBuffersBytes: number
}

const port = Number(process.env.BENCH_PROBE_PORT ?? '0')
const collect = (globalThis as { gc?: () => void }).gc

if (port > 0) {
  const server = createServer((request, response) => {
    if (request.url !== '/stats') {
      response.writeHead(404).end()
      return
    }
    collect?.()
    collect?.()
    const usage = process.memoryUsage()
    const stats: ProbeStats = {
      heapUsedBytes: usage.heapUsed,
      rssBytes: usage.rss,
      externalBytes: usage.external,
      arrayBuffersBytes: usage.arrayBuffers,
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats))
  })
  server.listen(port, '127.0.0.1')
  // The probe must never keep a server alive that wants to exit.
  server.unref()
}
