/**
 * Questions about a `Y.Doc` that Yjs answers only through its internals,
 * shared by the server (does an update change anything?) and the tools (has
 * an edit arrived?).
 */
import * as Y from 'yjs'

/** Whether `doc` holds every item of `client` in `[clock, clock + length)`, all deleted. */
export const isRangeDeleted = (
  doc: Y.Doc,
  client: number,
  clock: number,
  length: number,
): boolean => {
  const structs = doc.store.clients.get(client)
  if (structs === undefined || Y.getState(doc.store, client) < clock + length) return false
  let index = Y.findIndexSS(structs, clock)
  while (index < structs.length) {
    const struct = structs[index]
    if (struct === undefined || struct.id.clock >= clock + length) break
    if (!struct.deleted) return false
    index++
  }
  return true
}

/**
 * Whether applying `update` (V1, already validated) would change `doc`:
 * it carries structs past the document's state, or deletes something not
 * yet deleted. Sync step 2 of a client that is up to date changes nothing.
 */
export const wouldChange = (doc: Y.Doc, update: Uint8Array): boolean => {
  for (const [client, clock] of Y.parseUpdateMeta(update).to) {
    if (clock > Y.getState(doc.store, client)) return true
  }
  for (const [client, items] of Y.decodeUpdate(update).ds.clients) {
    for (const item of items) if (!isRangeDeleted(doc, client, item.clock, item.len)) return true
  }
  return false
}
