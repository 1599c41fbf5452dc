/**
 * The ProseMirror schema of Quire documents, built once from the shared
 * extension list (`documentExtensions()` of `@quire/schema/editor`), so the
 * server parses and renders with exactly the node and mark types the web
 * editor uses.
 */
import { getSchema, type Extensions } from '@tiptap/core'
import { Schema } from '@tiptap/pm/model'
import { documentExtensions } from '@quire/schema/editor'

let cached: { readonly extensions: Extensions; readonly schema: Schema } | null = null

const load = (): { readonly extensions: Extensions; readonly schema: Schema } => {
  // Built lazily: importing this module (through the server's index) must not
  // cost a schema build for processes that never convert content.
  cached ??= (() => {
    const extensions = documentExtensions()
    return { extensions, schema: getSchema(extensions) }
  })()
  return cached
}

/** The document schema, built on first use and shared (schemas are immutable). */
export const documentSchema = (): Schema => load().schema

/**
 * The extension list the schema was built from, for TipTap tools that take
 * extensions (the Markdown manager). Callers must not reconfigure them.
 */
export const schemaExtensions = (): Extensions => load().extensions

let changes: Schema | null = null

/**
 * The document schema plus the `change` mark of the changes view (who
 * wrote a run, and whether it was kept, added or deleted between two
 * versions; see `history/attribution.ts`), which the web app's read-only
 * viewer adds to the shared schema the same way.
 */
export const changesSchema = (): Schema => {
  changes ??= (() => {
    const { spec } = documentSchema()
    return new Schema({
      nodes: spec.nodes,
      marks: spec.marks.addToEnd('change', {
        attrs: {
          kind: { default: 'kept' },
          author: { default: null },
          at: { default: null },
          deletedBy: { default: null },
          deletedAt: { default: null },
        },
      }),
      topNode: spec.topNode,
    })
  })()
  return changes
}
