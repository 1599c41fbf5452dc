/**
 * Imports converted off the event loop. Parsing a file of up to
 * `MAX_IMPORT_BYTES` through happy-dom or marked takes from a fraction of a
 * second to several seconds of CPU; on the node's own thread every socket it
 * serves would wait that long. One worker thread does it instead, one file
 * at a time, and is stopped after a while without work.
 */
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { ContentError } from './content-error.js'
import type { ConversionReply, ConversionRequest } from './conversion-worker.js'
import { MAX_IMPORT_BYTES } from './document-import.js'

/** Options of `createImportConverter`. */
export interface ImportConverterOptions {
  /** Receives a crashed worker's error. */
  readonly logger: Logger
  /** Largest file accepted, UTF-8 bytes. @default MAX_IMPORT_BYTES */
  readonly maxBytes?: number
  /**
   * Longest one conversion may take, ms; past it the worker is stopped and
   * the import refused with `CONTENT_TOO_COMPLEX`. @default 30000
   */
  readonly timeoutMs?: number
  /** How long the worker is kept without work, ms. @default 60000 */
  readonly idleMs?: number
}

/** Defaults of `ImportConverterOptions`. */
export const DEFAULT_IMPORT_CONVERTER_OPTIONS = Object.freeze({
  maxBytes: MAX_IMPORT_BYTES,
  timeoutMs: 30_000,
  idleMs: 60_000,
})

/** A converted import: the update for an empty document, and its first heading. */
export interface ConvertedImport {
  readonly update: Uint8Array
  readonly heading: string | null
}

/** Converts imported files in a worker thread. */
export interface ImportConverter {
  /**
   * Parses `content` through the document schema (as `htmlToUpdate` and
   * `markdownToUpdate`). Rejects with `ContentError` for the file's faults
   * (`CONTENT_TOO_LARGE`, `CONTENT_UNPARSABLE`, `CONTENT_TOO_COMPLEX`), with
   * a plain `Error` when the worker failed.
   */
  convert(format: 'html' | 'markdown', content: string): Promise<ConvertedImport>
  /** Stops the worker; later calls start a new one. */
  close(): Promise<void>
}

// Under the test runner and tsx the modules are TypeScript sources: the
// worker then loads its entry through tsx's loader (a dev dependency, there
// whenever sources run).
const startWorker = (): Worker => {
  const isSource = import.meta.url.endsWith('.ts')
  const entry = new URL(`./conversion-worker.${isSource ? 'ts' : 'js'}`, import.meta.url)
  const worker = isSource
    ? new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}) })`,
        { eval: true },
      )
    : new Worker(entry)
  // The worker never keeps the process alive; close() or exit ends it.
  worker.unref()
  return worker
}

/** Creates a converter; its worker starts on the first conversion. */
export const createImportConverter = (options: ImportConverterOptions): ImportConverter => {
  const { logger } = options
  const { maxBytes, timeoutMs, idleMs } = { ...DEFAULT_IMPORT_CONVERTER_OPTIONS, ...options }
  let worker: Worker | null = null
  let idleTimer: NodeJS.Timeout | null = null
  let nextId = 1
  // One file at a time: bounds the worker's memory to one document.
  let queue: Promise<unknown> = Promise.resolve()

  const stop = async (): Promise<void> => {
    if (idleTimer !== null) clearTimeout(idleTimer)
    idleTimer = null
    const stopping = worker
    worker = null
    await stopping?.terminate()
  }

  const run = (request: ConversionRequest): Promise<ConvertedImport> =>
    new Promise<ConvertedImport>((resolve, reject) => {
      if (idleTimer !== null) clearTimeout(idleTimer)
      worker ??= startWorker()
      const current = worker
      const finish = (): void => {
        clearTimeout(timer)
        current.off('message', handleMessage)
        current.off('error', handleError)
        current.off('exit', handleExit)
      }
      const handleMessage = (reply: ConversionReply): void => {
        if (reply.id !== request.id) return
        finish()
        if (reply.ok) resolve({ update: reply.update, heading: reply.heading })
        else if (reply.code !== null) reject(new ContentError(reply.code, reply.message))
        else reject(new Error(`import conversion failed: ${reply.message}`))
      }
      const handleError = (err: Error): void => {
        finish()
        logger.error({ err }, 'import converter crashed')
        if (worker === current) worker = null
        reject(new Error('import conversion failed', { cause: err }))
      }
      const handleExit = (): void => {
        finish()
        if (worker === current) worker = null
        reject(new Error('import converter stopped'))
      }
      const timer = setTimeout(() => {
        finish()
        // A file that parses this slowly would hold the worker from every
        // later import; stopping it is the only way to interrupt a parser.
        void stop()
        reject(new ContentError('CONTENT_TOO_COMPLEX', `conversion took over ${timeoutMs} ms`))
      }, timeoutMs)
      current.on('message', handleMessage)
      current.once('error', handleError)
      current.once('exit', handleExit)
      current.postMessage(request)
    })

  return {
    convert(format, content) {
      const request: ConversionRequest = { id: nextId++, format, content, maxBytes }
      const result = queue.then(() => run(request))
      queue = result
        .catch(() => undefined)
        .then(() => {
          if (worker === null || idleTimer !== null) return
          idleTimer = setTimeout(() => void stop(), idleMs)
          idleTimer.unref()
        })
      return result
    },
    close: stop,
  }
}
