/**
 * `@y/websocket-server` as its own `server.js` runs it (an HTTP server, a
 * `ws` server without its own port, `setupWSConnection` per socket, no
 * persistence), on 127.0.0.1:`PORT`.
 */
import { createServer } from 'node:http'
import { setupWSConnection } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'

const port = Number(process.env.PORT ?? '0')
const sockets = new WebSocketServer({ noServer: true })
sockets.on('connection', setupWSConnection)
const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain' }).end('okay')
})
server.on('upgrade', (request, socket, head) => {
  sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request))
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`BENCH_READY ${port}\n`))
const stop = (): void => process.exit(0)
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
