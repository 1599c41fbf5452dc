/**
 * Merging of a component's options over its defaults, shared by the store's
 * components.
 */

/**
 * Returns `options` over `defaults`, where an option given as `undefined`
 * keeps its default (a plain spread would overwrite it with `undefined`).
 * The result is frozen: options are resolved once, at construction.
 * @internal
 */
export const resolveOptions = <Defaults extends object, Options extends object>(
  defaults: Defaults,
  options: Options,
): Readonly<Options & Defaults> => {
  const given = Object.entries(options).filter(([, value]) => value !== undefined)
  return Object.freeze({ ...defaults, ...Object.fromEntries(given) }) as Options & Defaults
}
