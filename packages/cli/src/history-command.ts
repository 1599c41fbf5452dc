/**
 * `quire history prune`: one retention pass now, the same work every node
 * does on its timer (see docs/ARCHITECTURE.md, history retention), for an
 * operator who lowered the window or runs nodes with retention off.
 */
import { parseArgs } from 'node:util'
import {
  ConfigError,
  openStoreForMaintenance,
  pruneHistory,
  resolveServeConfig,
} from '@quire/server'

const HELP = `Usage: quire history prune [options]

  prune   delete stored updates older than the retention window, only at or
          below a checkpoint that is kept, and thin older automatic checkpoints
          to one per period; named versions, the latest checkpoint and every
          update after it are always kept

Options:
  --history-retention-days <n>          days every update is kept
                                        (env QUIRE_HISTORY_RETENTION_DAYS, default 30; 0 = keep all)
  --history-checkpoint-spacing-hours <n>  one automatic checkpoint kept per this many hours
                                        beyond the window (env QUIRE_HISTORY_CHECKPOINT_SPACING_HOURS,
                                        default 24)
  --database-url <url>   PostgreSQL (env DATABASE_URL); unset: the embedded database
  --data-dir <dir>       folder of the embedded database (env QUIRE_DATA_DIR, default ./data);
                         no node may be running on it
  --json                 print the totals as JSON

Exit status: 0 when the pass ran, 1 when another process was pruning the
database (nothing was done; run again later), 2 for bad options.
`

export const runHistory = async (argv: readonly string[]): Promise<number> => {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        'history-retention-days': { type: 'string' },
        'history-checkpoint-spacing-hours': { type: 'string' },
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    process.stderr.write(`quire history: ${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if (parsed.values.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  if (parsed.positionals[0] !== 'prune' || parsed.positionals.length !== 1) {
    process.stderr.write(`quire history: say prune\n\n${HELP}`)
    return 2
  }
  // The node's own resolver: the same names, defaults and bounds as serve.
  let config
  try {
    config = resolveServeConfig(
      {
        historyRetentionDays: parsed.values['history-retention-days'],
        historyCheckpointSpacingHours: parsed.values['history-checkpoint-spacing-hours'],
        databaseUrl: parsed.values['database-url'],
        dataDir: parsed.values['data-dir'],
      },
      process.env,
    )
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`quire history: ${err.message}\n`)
    return 2
  }
  if (config.historyRetentionDays === 0) {
    process.stdout.write('retention is 0 days (keep everything): nothing to prune\n')
    return 0
  }

  const store = await openStoreForMaintenance(config)
  try {
    const summary = await pruneHistory(store.sql, {
      retentionDays: config.historyRetentionDays,
      checkpointSpacingHours: config.historyCheckpointSpacingHours,
    })
    if (parsed.values.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`)
    else {
      process.stdout.write(
        `pruned ${summary.documents} documents: deleted ${summary.deletedUpdates} updates ` +
          `and ${summary.deletedCheckpoints} checkpoints\n`,
      )
    }
    if (!summary.isBusy) return 0
    process.stderr.write(
      'quire history: another process is pruning this database; run again later\n',
    )
    return 1
  } finally {
    await store.close()
  }
}
