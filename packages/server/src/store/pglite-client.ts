/**
 * `SqlClient` over PGlite, PostgreSQL compiled to WebAssembly and run in this
 * process: the embedded database of single-machine mode. Its files live in
 * one folder on disk. PGlite is one connection: it queues queries and runs a
 * transaction exclusively, so concurrent callers simply wait their turn.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import {
  createTransactionClient,
  parseBytea,
  parseInt8,
  PG_TYPE_ID,
  type SqlClient,
  type SqlParam,
} from './sql-client.js'

/** Options of `openPgliteClient`. */
export interface PgliteClientOptions {
  /** Folder holding the database files; created when missing. */
  readonly directory: string
}

/**
 * Opens (creating when needed) the embedded database in
 * `options.directory` and returns it as a `SqlClient`. The caller owns it and
 * must `close()` it; closing flushes PGlite's files.
 *
 * One process at a time: PGlite takes no lock on its folder and a second
 * process would corrupt it, so this takes a lock file (`quire.lock`, holding
 * the owner's pid) and refuses a folder another live process holds. Run
 * real PostgreSQL (`DATABASE_URL`) for more than one node.
 */
export const openPgliteClient = async (options: PgliteClientOptions): Promise<SqlClient> => {
  await mkdir(options.directory, { recursive: true })
  const releaseLock = await lockDirectory(options.directory)
  let db: PGlite
  try {
    db = await PGlite.create(options.directory, {
      parsers: { [PG_TYPE_ID.int8]: parseInt8, [PG_TYPE_ID.bytea]: parseBytea },
    })
  } catch (err) {
    await releaseLock()
    throw err
  }

  return {
    async query<Row>(text: string, params: readonly SqlParam[] = []): Promise<Row[]> {
      const result = await db.query<Row>(text, [...params])
      return result.rows
    },
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> =>
      db.transaction(async (transaction) => {
        const tx = createTransactionClient(
          async <Row>(text: string, params: readonly SqlParam[]) => {
            const result = await transaction.query<Row>(text, [...params])
            return result.rows
          },
        )
        return fn(tx)
      }),
    close: async () => {
      await db.close()
      await releaseLock()
    },
  }
}

/**
 * Takes `<directory>/quire.lock` for this process. A lock whose pid is no
 * longer running (a crash, kill -9) is stale and taken over.
 */
const lockDirectory = async (directory: string): Promise<() => Promise<void>> => {
  const path = join(directory, 'quire.lock')
  if (heldDirectories.has(path)) {
    throw Object.assign(new Error(`the data folder ${directory} is already open in this process`), {
      code: 'EDATADIRLOCKED',
    })
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      heldDirectories.add(path)
      return async () => {
        heldDirectories.delete(path)
        await unlink(path).catch(() => undefined)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim())
      // A lock with this process's own pid is stale (held locks are in
      // `heldDirectories`): an earlier process with the same pid left it.
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw Object.assign(
          new Error(
            `the data folder ${directory} is in use by process ${owner}; one process per folder`,
          ),
          { code: 'EDATADIRLOCKED' },
        )
      }
      await unlink(path).catch(() => undefined)
    }
  }
  throw new Error(`could not lock the data folder ${directory}`)
}

/** Lock files this process holds. */
const heldDirectories = new Set<string>()

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
