/**
 * A document's whole state as a series of updates of bounded size, for
 * clients that join with nothing (field case F10). One multi-megabyte sync
 * step 2 crosses a slow link as one WebSocket message, and y-websocket's
 * provider, which hears nothing until a whole message has arrived, drops
 * the connection after 30 s of silence and starts over: a large document
 * could then never load. In pieces, every piece is a message, so the
 * provider hears something at least once per piece.
 *
 * The pieces are written with Yjs's own struct encoders: each holds runs of
 * consecutive structs of some clients, with an empty delete set; the last
 * is the delete set alone (an update with no structs). Pieces may refer to
 * structs in later pieces: Yjs keeps such structs pending until what they
 * refer to arrives, so the state is complete once the last piece is in.
 *
 * Limit: a struct is never cut, so one struct bigger than the piece size
 * (a single paste of several megabytes) makes a piece of its own size.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/** What the store holds per client: items and garbage-collected ranges (Yjs's Item and GC). */
interface StoredStruct {
  readonly id: Y.ID
  write(encoder: Y.UpdateEncoderV1, offset: number): void
}

/** One run of consecutive structs of one client, already encoded. */
interface Run {
  readonly client: number
  readonly clock: number
  readonly count: number
  readonly bytes: Uint8Array
}

/** Encodes `doc`'s state as updates of about `maxBytes` each, the delete set last. */
export const encodeStateInPieces = (doc: Y.Doc, maxBytes: number): Uint8Array[] => {
  const runs: Run[] = []
  for (const [client, stored] of doc.store.clients) {
    const structs = stored as readonly StoredStruct[]
    let encoder = new Y.UpdateEncoderV1()
    let first = 0
    for (let i = 0; i < structs.length; i++) {
      const struct = structs[i] as StoredStruct
      struct.write(encoder, 0)
      const isLast = i === structs.length - 1
      if (isLast || encoding.length(encoder.restEncoder) >= maxBytes) {
        runs.push({
          client,
          clock: (structs[first] as StoredStruct).id.clock,
          count: i - first + 1,
          bytes: encoder.toUint8Array(),
        })
        encoder = new Y.UpdateEncoderV1()
        first = i + 1
      }
    }
  }

  const pieces: Uint8Array[] = []
  let batch: Run[] = []
  let batchBytes = 0
  const flush = (): void => {
    if (batch.length === 0) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, batch.length)
    for (const run of batch) {
      encoding.writeVarUint(encoder, run.count)
      encoding.writeVarUint(encoder, run.client)
      encoding.writeVarUint(encoder, run.clock)
      encoding.writeUint8Array(encoder, run.bytes)
    }
    encoding.writeVarUint(encoder, 0) // an empty delete set
    pieces.push(encoding.toUint8Array(encoder))
    batch = []
    batchBytes = 0
  }
  for (const run of runs) {
    if (batchBytes > 0 && batchBytes + run.bytes.length > maxBytes) flush()
    batch.push(run)
    batchBytes += run.bytes.length
  }
  flush()
  // No structs, the whole delete set: what a client at the full state vector lacks.
  pieces.push(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc)))
  return pieces
}
