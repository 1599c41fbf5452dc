/**
 * The ProseMirror schema of Quire documents, built once from the shared
 * extension list (`documentExtensions()` of `@quire/schema/editor`), so the
 * server parses and renders with exactly the node and mark types the web
 * editor uses.
 */
import { getSchema, type Extensions } from '@tiptap/core'
import type { Schema } from '@tiptap/pm/model'
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
