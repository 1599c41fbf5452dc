/**
 * A bound on the nesting of JSON text, checked by scanning, without parsing.
 *
 * `JSON.parse` accepts any depth, but re-serialising a value nested a few
 * thousand levels deep overflows the stack (`JSON.stringify` recurses), and
 * both Yjs and the awareness protocol re-serialise what they parse. A 10 KB
 * message of brackets must not be able to crash a node.
 */

/** Deepest nesting of arrays and objects accepted in JSON from a client. */
export const MAX_JSON_DEPTH = 32

/** Whether `text`'s arrays and objects nest at most `maxDepth` levels. */
export const isJsonDepthWithin = (text: string, maxDepth = MAX_JSON_DEPTH): boolean => {
  let depth = 0
  let isInString = false
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i)
    if (isInString) {
      if (char === 0x5c)
        i++ // backslash: skip the escaped character
      else if (char === 0x22) isInString = false
      continue
    }
    if (char === 0x22) isInString = true
    else if (char === 0x5b || char === 0x7b) {
      depth++
      if (depth > maxDepth) return false
    } else if (char === 0x5d || char === 0x7d) depth--
  }
  return true
}
