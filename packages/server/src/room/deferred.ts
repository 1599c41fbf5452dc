/** A promise with its settle functions, for hand-over between callbacks. */
export interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T | Promise<T>): void
  reject(reason: unknown): void
}

/** Creates a deferred whose rejection is never reported as unhandled. */
export const createDeferred = <T>(): Deferred<T> => {
  // Both are assigned synchronously by the Promise constructor below.
  let resolve!: (value: T | Promise<T>) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}
