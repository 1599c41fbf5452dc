/**
 * `quire dead-letters list|retry`: shows the updates the database refused
 * (see docs/ARCHITECTURE.md, dead letters) and puts them back into the log
 * once the cause is fixed.
 */
import { parseArgs } from 'node:util'
import { listDeadLetters, openStoreForMaintenance, retryDeadLetters } from '@quire/server'

const HELP = `Usage: quire dead-letters <list|retry> [options]

  list    print the dead letters, oldest first (no document content)
  retry   append each dead letter to the update log; those refused again stay

Options:
  --database-url <url>   PostgreSQL (env DATABASE_URL); unset: the embedded database
  --data-dir <dir>       folder of the embedded database (env QUIRE_DATA_DIR, default ./data);
                         no node may be running on it
  --json                 print JSON
`

export const runDeadLetters = async (argv: readonly string[]): Promise<number> => {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    process.stderr.write(`quire dead-letters: ${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  const [action] = parsed.positionals
  if (parsed.values.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  if (action !== 'list' && action !== 'retry') {
    process.stderr.write(`quire dead-letters: say list or retry\n\n${HELP}`)
    return 2
  }
  const store = await openStoreForMaintenance({
    databaseUrl: parsed.values['database-url'] ?? process.env.DATABASE_URL,
    dataDir: parsed.values['data-dir'] ?? process.env.QUIRE_DATA_DIR ?? './data',
  })
  try {
    if (action === 'list') {
      const letters = await listDeadLetters(store.sql)
      if (parsed.values.json === true) process.stdout.write(`${JSON.stringify(letters)}\n`)
      else if (letters.length === 0) process.stdout.write('no dead letters\n')
      else {
        for (const letter of letters) {
          process.stdout.write(
            `${letter.id}\t${letter.docId}\t${letter.bytes} B\tuser ${letter.userId ?? '-'}\t` +
              `${letter.attempts} attempts\t${letter.lastError}\n`,
          )
        }
      }
      return 0
    }
    const outcome = await retryDeadLetters(store.sql)
    if (parsed.values.json === true) process.stdout.write(`${JSON.stringify(outcome)}\n`)
    else process.stdout.write(`restored ${outcome.restored}, refused again ${outcome.failed}\n`)
    return outcome.failed === 0 ? 0 : 1
  } finally {
    await store.close()
  }
}
