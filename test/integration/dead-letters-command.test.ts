/**
 * `quire dead-letters list|retry` against a real PostgreSQL: what a node
 * dead-lettered is listed without its content, and put back into the log.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import { describe, expect, inject, it } from 'vitest'
import * as Y from 'yjs'
import { REPO_ROOT } from '../support/servers.js'
import { readStoredText } from '../support/stored.js'

const runQuire = (args: readonly string[]): Promise<{ code: number | null; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'packages/cli/src/main.ts'), ...args],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.once('error', reject)
    child.once('exit', (code) => resolve({ code, stdout }))
  })

describe('quire dead-letters', () => {
  it('lists dead letters without content and restores them into the log', async () => {
    const databaseUrl = inject('databaseUrl')
    const docId = `dl-${randomUUID().slice(0, 8)}`
    const doc = new Y.Doc()
    doc.getText('text').insert(0, 'secret words')
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    try {
      // Make sure the schema exists (a node or the command migrates it).
      expect((await runQuire(['dead-letters', 'list', '--database-url', databaseUrl])).code).toBe(0)
      await client.query(
        `INSERT INTO dead_letters (doc_id, data, user_id, conn_id, received_at, bus_id, attempts, last_error)
           VALUES ($1, $2, 'u1', 'c1', now(), $3, 5, 'value too long')`,
        [docId, Buffer.from(Y.encodeStateAsUpdate(doc)), `bus-${randomUUID()}`],
      )

      const listed = await runQuire([
        'dead-letters',
        'list',
        '--json',
        '--database-url',
        databaseUrl,
      ])
      expect(listed.code).toBe(0)
      const letters = JSON.parse(listed.stdout) as { docId: string; attempts: number }[]
      expect(letters.filter((l) => l.docId === docId)).toMatchObject([{ attempts: 5 }])
      expect(listed.stdout).not.toContain('secret')

      const retried = await runQuire(['dead-letters', 'retry', '--database-url', databaseUrl])
      expect(retried).toMatchObject({ code: 0, stdout: expect.stringMatching(/restored [1-9]/) })
      expect(await readStoredText(databaseUrl, docId)).toBe('secret words')
      const { rows } = await client.query('SELECT 1 FROM dead_letters WHERE doc_id = $1', [docId])
      expect(rows).toEqual([])
    } finally {
      await client.end()
    }
  })

  it('exits with status 2 and the usage for an unknown action', async () => {
    expect((await runQuire(['dead-letters', 'purge'])).code).toBe(2)
  })
})
