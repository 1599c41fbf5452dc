/**
 * The CPU of sending one small message to 200 sockets, ws's own send against
 * the pre-framed send of transport/binary-frame.ts: the synchronous part of a
 * broadcast (framing, the socket write, the syscall). The sockets' clients run
 * in a child process on the other CPU.
 *
 *   node --import tsx packages/bench/bench/send-path.ts
 */
import { execFileSync, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import { sendBinary } from '../../server/src/transport/binary-frame.js'

const SOCKETS = 200
const ROUNDS = 400

if (process.argv[2] === 'client') {
  for (let i = 0; i < Number(process.argv[4]); i++) new WebSocket(process.argv[3] as string)
} else {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  await new Promise((resolve) => server.once('listening', resolve))
  const sockets: WebSocket[] = []
  server.on('connection', (socket) => sockets.push(socket))
  const port = (server.address() as { port: number }).port
  const child = fork(
    fileURLToPath(import.meta.url),
    ['client', `ws://127.0.0.1:${port}`, String(SOCKETS)],
    {
      execArgv: ['--import', 'tsx'],
    },
  )
  try {
    execFileSync('taskset', ['-a', '-p', '-c', '1', String(child.pid)], { stdio: 'ignore' })
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  } catch {
    // No taskset: unpinned.
  }
  while (sockets.length < SOCKETS) await new Promise((resolve) => setTimeout(resolve, 50))
  const measure = async (
    send: (socket: WebSocket, payload: Uint8Array) => void,
  ): Promise<number> => {
    let micros = 0
    for (let round = 0; round < ROUNDS; round++) {
      const payload = new Uint8Array(40).fill(round % 256)
      const before = process.cpuUsage()
      for (const socket of sockets) send(socket, payload)
      const used = process.cpuUsage(before)
      micros += used.user + used.system
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    return micros / ROUNDS / SOCKETS
  }
  for (let rep = 0; rep < 4; rep++) {
    const plain = await measure((socket, payload) => socket.send(payload))
    const framed = await measure(sendBinary)
    console.log(`ws send ${plain.toFixed(2)} µs, pre-framed ${framed.toFixed(2)} µs per socket`)
  }
  child.kill()
  server.close()
}
