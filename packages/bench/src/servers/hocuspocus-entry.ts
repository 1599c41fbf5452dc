/**
 * `@hocuspocus/server` as the benchmark runs it: defaults, no extensions
 * (so no persistence), on 127.0.0.1:`PORT`. Hocuspocus's own `listen()`
 * passes `address` where Node expects `host` and so binds every interface;
 * the HTTP server it built is started here on loopback instead.
 */
import { Server } from '@hocuspocus/server'

const port = Number(process.env.PORT ?? '0')
const server = new Server({ quiet: true, stopOnSignals: false })
server.httpServer.listen({ port, host: '127.0.0.1' }, () => {
  process.stdout.write(`BENCH_READY ${port}\n`)
})
const stop = (): void => {
  void server.destroy().finally(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
