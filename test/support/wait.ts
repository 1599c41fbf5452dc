/**
 * Waiting on conditions with deadlines: tests never sleep for a fixed time.
 */

/**
 * Resolves once `condition` returns true (checked every `intervalMs`);
 * rejects with `what` after `timeoutMs`.
 */
export const waitUntil = async (
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Resolves with the first event `emitter` emits of `name`, or rejects after `timeoutMs`. */
export const nextEvent = <T extends unknown[]>(
  emitter: { once(name: string, listener: (...args: T) => void): unknown },
  name: string,
  timeoutMs = 10_000,
): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for '${name}'`)), timeoutMs)
    emitter.once(name, (...args: T) => {
      clearTimeout(timer)
      resolve(args)
    })
  })
