/**
 * The edit a restore makes: the current content's changed blocks replaced
 * by copies of an old version's. Pure Yjs work, run in the history worker
 * (`changes-worker.ts`) so a large document does not hold the node.
 */
import { RICH_TEXT_FRAGMENT, TRACE_TEXT } from '@quire/schema'
import * as Y from 'yjs'
import { checkFragmentDepth, ContentError } from '../content/index.js'

/**
 * Most top-level blocks one restore deletes and inserts. Yjs garbage
 * collects each deleted block's nested types when the edit is applied, on
 * the node's thread and faster than linearly: replacing 10,000 paragraphs
 * takes over a second there, in the room of every node holding the
 * document. A restore that would replace more is refused with
 * `CONTENT_TOO_COMPLEX` (422); export that version and import it instead.
 */
export const MAX_RESTORED_BLOCKS = 3_000

/**
 * Replaces the blocks of `fragment` that differ from `oldFragment`'s by
 * copies of the old ones: blocks equal at the start and at the end are
 * kept (a restore of a recent version touches only what changed since),
 * the rest is deleted and the old blocks in between inserted. Throws
 * `CONTENT_TOO_COMPLEX` before changing anything past `MAX_RESTORED_BLOCKS`.
 */
const replaceChangedBlocks = (fragment: Y.XmlFragment, oldFragment: Y.XmlFragment): void => {
  const current = fragment.toArray().map((node) => node.toString())
  const wanted = oldFragment.toArray()
  const wantedText = wanted.map((node) => node.toString())
  let start = 0
  while (start < current.length && start < wanted.length && current[start] === wantedText[start]) {
    start++
  }
  let end = 0
  while (
    end < current.length - start &&
    end < wanted.length - start &&
    current[current.length - 1 - end] === wantedText[wanted.length - 1 - end]
  ) {
    end++
  }
  const deleted = current.length - start - end
  const inserted = wanted.slice(start, wanted.length - end)
  if (deleted + inserted.length > MAX_RESTORED_BLOCKS) {
    throw new ContentError(
      'CONTENT_TOO_COMPLEX',
      `the restore would replace ${deleted + inserted.length} blocks, over ${MAX_RESTORED_BLOCKS}`,
    )
  }
  if (deleted > 0) fragment.delete(start, deleted)
  const copies = inserted.map((node) => node.clone())
  if (copies.length > 0) fragment.insert(start, copies as (Y.XmlElement | Y.XmlText)[])
}

/**
 * Makes `doc`'s content equal to `old`'s: the rich text's changed blocks
 * are replaced by copies of the old nodes, the trace text by the old text. Copies are new
 * items, so concurrent edits made meanwhile merge as with any other edit.
 */
export const replaceContent = (doc: Y.Doc, old: Y.Doc): void => {
  const fragment = doc.getXmlFragment(RICH_TEXT_FRAGMENT)
  const oldFragment = old.getXmlFragment(RICH_TEXT_FRAGMENT)
  // Yjs deletes, garbage-collects and clones nested types recursively: rich
  // text nested thousands deep (a hostile client's) would overflow the stack
  // halfway through the edit. Refused before anything changes
  // (CONTENT_TOO_DEEP, answered 422).
  checkFragmentDepth(fragment)
  checkFragmentDepth(oldFragment)
  replaceChangedBlocks(fragment, oldFragment)

  const text = doc.getText(TRACE_TEXT)
  const oldText = old.getText(TRACE_TEXT)
  if (text.length > 0) text.delete(0, text.length)
  if (oldText.length > 0) text.applyDelta(oldText.toDelta())
}

/**
 * The update that turns the document built from `currentParts` (Yjs
 * updates applied in order) into the content of the one built from
 * `oldParts`. Throws `ContentError` (`CONTENT_TOO_COMPLEX`,
 * `CONTENT_TOO_DEEP`) before building anything when refused.
 */
export const computeRestoreUpdate = (
  currentParts: readonly Uint8Array[],
  oldParts: readonly Uint8Array[],
): Uint8Array => {
  const doc = new Y.Doc()
  const old = new Y.Doc()
  try {
    doc.transact(() => {
      for (const part of currentParts) Y.applyUpdate(doc, part)
    })
    old.transact(() => {
      for (const part of oldParts) Y.applyUpdate(old, part)
    })
    const before = Y.encodeStateVector(doc)
    doc.transact(() => replaceContent(doc, old))
    return Y.encodeStateAsUpdate(doc, before)
  } finally {
    doc.destroy()
    old.destroy()
  }
}
