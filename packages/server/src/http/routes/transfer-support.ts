/**
 * Header helpers of the export and import routes: conditional requests,
 * download file names, titles taken from content.
 */

/** Longest file name an export suggests, characters, before its extension. */
const MAX_FILENAME_LENGTH = 100

/** Longest document title, characters (as POST /api/documents). */
const MAX_TITLE_LENGTH = 200

// Characters no file name should carry on any common system, controls, and
// invisible format characters: bidi overrides, embeddings and isolates
// (U+202E shows `gnp.exe` as `exe.png`), marks, zero-width characters,
// line and paragraph separators, the BOM.
const UNSAFE_FILENAME_CHARACTERS =
  /[\u0000-\u001f\u007f-\u009f"*/:<>?\\|\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]+/g

/**
 * Whether an `If-None-Match` header matches `etag` (weak comparison, as
 * RFC 9110 asks for If-None-Match): `*`, or a list naming it with or
 * without `W/`.
 */
export const etagMatches = (header: string | undefined, etag: string): boolean => {
  if (header === undefined) return false
  return header
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag === etag || tag === `W/${etag}`)
}

/**
 * A file name for `title`: unsafe characters become spaces, leading dots
 * and spaces go (no hidden files), at most `MAX_FILENAME_LENGTH` characters;
 * `document` when nothing is left.
 */
export const safeFilename = (title: string): string => {
  const cleaned = title
    .normalize('NFC')
    .replace(UNSAFE_FILENAME_CHARACTERS, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
  const cut = Array.from(cleaned).slice(0, MAX_FILENAME_LENGTH).join('').trim()
  return cut === '' ? 'document' : cut
}

const encodeRfc8187 = (value: string): string =>
  encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )

/**
 * `Content-Disposition: attachment` for a download of `title` with
 * `extension`: an ASCII `filename` for old clients and the exact name as
 * UTF-8 in `filename*` (RFC 6266).
 */
export const attachmentDisposition = (title: string, extension: string): string => {
  const name = `${safeFilename(title)}.${extension}`
  const ascii = name.replace(/[^\u0020-\u007e]/g, '_').replace(/[%;]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeRfc8187(name)}`
}

/**
 * A document title from imported content (its first heading): whitespace
 * and controls collapsed, at most `MAX_TITLE_LENGTH` characters; null when
 * nothing is left.
 */
export const titleFromContent = (heading: string | null): string | null => {
  if (heading === null) return null
  const cleaned = heading.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim()
  const cut = Array.from(cleaned).slice(0, MAX_TITLE_LENGTH).join('').trim()
  return cut === '' ? null : cut
}
