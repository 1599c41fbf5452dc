/**
 * Patches of the editing traces and the two ways to apply them: to a plain
 * string (the independent check) and to a Y.Text (how updates are made).
 *
 * Trace positions and lengths count Unicode code points. Every character in
 * the published traces is in the Basic Multilingual Plane, so a code point is
 * one UTF-16 code unit and JavaScript string indices (which Y.Text also uses)
 * give the same result; /work/shared/data/traces/README.md confirms that all
 * sequential traces replay to `endContent` either way.
 */
import type * as Y from 'yjs'

/**
 * One splice: at `pos`, delete `del` characters, then insert `ins`.
 * Positions refer to the document after every earlier patch of the same
 * branch, including earlier patches of the same transaction.
 */
export type Patch = readonly [pos: number, del: number, ins: string]

/**
 * Applies `patches` in order to `text` and returns the result.
 * Throws when a patch reaches past the end of the text.
 */
export const applyPatchesToString = (text: string, patches: readonly Patch[]): string => {
  let result = text
  for (const [pos, del, ins] of patches) {
    if (pos + del > result.length) {
      throw new Error(`patch [${pos}, ${del}] reaches past the end of a ${result.length}-char text`)
    }
    result = result.slice(0, pos) + ins + result.slice(pos + del)
  }
  return result
}

/**
 * How `applyPatchesToYText` treats a patch reaching past the end of the text:
 * `strict` throws before touching the text; `clamp` passes it to Y.Text,
 * which inserts at the end and deletes what is there, as the published Yjs
 * conversions of the traces did.
 */
export type PositionMode = 'strict' | 'clamp'

/**
 * Applies `patches` in order to `text`. Call it inside `doc.transact` so the
 * patches of one trace transaction become one Yjs transaction (one update).
 * Returns how many patches reached past the end (always 0 in `strict` mode,
 * which throws on the first instead).
 */
export const applyPatchesToYText = (
  text: Y.Text,
  patches: readonly Patch[],
  mode: PositionMode = 'strict',
): number => {
  let overruns = 0
  for (const [pos, del, ins] of patches) {
    // Y.Text silently clamps out-of-range positions; check first so a
    // position that is wrong for this branch fails loudly instead.
    if (pos + del > text.length) {
      if (mode === 'strict') {
        throw new Error(`patch [${pos}, ${del}] reaches past the end of a ${text.length}-char text`)
      }
      overruns++
    }
    if (del > 0) text.delete(pos, del)
    if (ins.length > 0) text.insert(pos, ins)
  }
  return overruns
}

/**
 * Counts the single-character edits `patches` represent: characters deleted
 * plus characters inserted (the unit of the published B4 figures, where
 * automerge-paper is 259,778 edits).
 */
export const countEdits = (patches: readonly Patch[]): number => {
  let edits = 0
  for (const [, del, ins] of patches) edits += del + ins.length
  return edits
}
