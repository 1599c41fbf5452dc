/**
 * Each person's colour for carets, selections and avatars: picked from a
 * fixed palette by their user id, so it is the same in every tab and for
 * every viewer. Colours are `#rrggbb` (the caret extension accepts only
 * that) and dark enough for white label text.
 */
const PALETTE = [
  '#c2410c',
  '#0f766e',
  '#7c3aed',
  '#be123c',
  '#1d4ed8',
  '#4d7c0f',
  '#a21caf',
  '#b45309',
  '#0369a1',
  '#9f1239',
] as const

/**
 * The palette index for a user id (a stable string hash), for places that
 * colour by class (`.author-<index>` in styles.css) because the CSP
 * refuses style attributes in rendered HTML.
 */
export const colorIndexForUser = (userId: string): number => {
  let hash = 0
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) | 0
  return Math.abs(hash) % PALETTE.length
}

/**
 * Palette indexes for people shown together (the authors of one version):
 * each gets `colorIndexForUser`, their caret and avatar colour, unless an
 * earlier one in `userIds` took it; then the next free index. Up to the
 * palette's size, no two share a colour; past it, indexes repeat.
 */
export const colorIndexesForUsers = (userIds: readonly string[]): Map<string, number> => {
  const indexes = new Map<string, number>()
  const taken = new Set<number>()
  for (const userId of userIds) {
    if (indexes.has(userId)) continue
    let index = colorIndexForUser(userId)
    for (let step = 0; step < PALETTE.length && taken.has(index); step++) {
      index = (index + 1) % PALETTE.length
    }
    indexes.set(userId, index)
    taken.add(index)
    if (taken.size === PALETTE.length) taken.clear()
  }
  return indexes
}

/** How many distinct colours the palette has. */
export const PALETTE_SIZE = PALETTE.length

/** The palette's colour at `index` (wrapping around). */
export const paletteColor = (index: number): string =>
  PALETTE[Math.abs(index) % PALETTE.length] ?? PALETTE[0]

/** The colour for a user id (a stable string hash into the palette). */
export const colorForUser = (userId: string): string =>
  PALETTE[colorIndexForUser(userId)] ?? PALETTE[0]

/** Up to two initials of a display name, for avatars. */
export const initialsOf = (name: string): string => {
  const words = name
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '')
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0]]
  return letters.map((word) => [...(word ?? '?')][0]?.toUpperCase() ?? '').join('') || '?'
}
