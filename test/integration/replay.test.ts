/**
 * Real recorded editing traces replayed through a node by real WebSocket
 * clients (prefixes, to keep the suite fast): every client and a fresh one
 * converge on the trace's text, and `quire replay` works as a command,
 * including `--verify` after a restart.
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createReplayPlan, loadTrace, runReplay } from '@quire/tools'
import { describe, expect, it } from 'vitest'
import { makeTempDir, REPO_ROOT, spawnServer, startTestServer } from '../support/servers.js'

const run = promisify(execFile)

describe('trace replay', () => {
  it('converges on a sequential trace typed by three interleaving clients', async () => {
    const server = await startTestServer({ store: 'postgres' })
    const plan = createReplayPlan(await loadTrace('automerge-paper'), {
      clients: 3,
      limitTxns: 3_000,
    })
    const result = await runReplay(plan, {
      servers: [server.wsUrl],
      docId: `seq-${Date.now()}`,
      timeoutMs: 60_000,
    })
    expect(result.mismatch).toBeUndefined()
    expect(result.converged).toBe(true)
    expect(result.edits).toBe(plan.totalEdits)
    expect(result.latency.count).toBeGreaterThan(0)
    await server.dispose()
  })

  it('converges on a concurrent trace with one client per agent, respecting causality', async () => {
    const server = await startTestServer({ store: 'embedded' })
    const plan = createReplayPlan(await loadTrace('friendsforever'), { limitTxns: 4_000 })
    expect(plan.clients).toBe(2)
    const result = await runReplay(plan, {
      servers: [server.wsUrl],
      docId: `conc-${Date.now()}`,
      timeoutMs: 60_000,
    })
    expect(result.mismatch).toBeUndefined()
    expect(result.converged).toBe(true)
    await server.dispose()
  })

  it('converges on a trace with long branches and many agents (A1, first 200 transactions)', async () => {
    const server = await startTestServer({ store: 'embedded' })
    const plan = createReplayPlan(await loadTrace('A1'), { limitTxns: 200 })
    const result = await runReplay(plan, {
      servers: [server.wsUrl],
      docId: `a1-${Date.now()}`,
      timeoutMs: 60_000,
    })
    expect(result.mismatch).toBeUndefined()
    expect(result.converged).toBe(true)
    await server.dispose()
  })

  it('runs as `quire replay --json`, then `--verify` finds the text after a restart', async () => {
    const dir = await makeTempDir('replay-cli')
    const args = ['--data-dir', dir.path]
    let node = await spawnServer(args)
    const cli = join(REPO_ROOT, 'packages/cli/src/main.ts')
    const docId = `cli-${Date.now()}`
    const replay = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'replay',
        'sveltecomponent',
        '--server',
        node.wsUrl,
        '--clients',
        '2',
        '--limit-txns',
        '1500',
        '--doc',
        docId,
        '--json',
      ],
      { cwd: REPO_ROOT },
    )
    const last = JSON.parse(replay.stdout.trim().split('\n').at(-1) ?? '{}') as Record<
      string,
      unknown
    >
    expect(last).toMatchObject({ doc: docId, converged: true })
    for (const field of ['edits', 'editsPerSec', 'p50Ms', 'p99Ms', 'storedBytes']) {
      expect(typeof last[field]).toBe('number')
    }
    expect(replay.stdout).toMatch(/edits\/s/)

    await node.stop()
    node = await spawnServer(args)
    const verify = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        'replay',
        'sveltecomponent',
        '--server',
        node.wsUrl,
        '--limit-txns',
        '1500',
        '--doc',
        docId,
        '--verify',
        '--json',
      ],
      { cwd: REPO_ROOT },
    )
    expect(JSON.parse(verify.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({
      converged: true,
    })
    await node.stop()
    await dir.remove()
  })

  it('exits with status 2 and a clear message for bad arguments', async () => {
    const cli = join(REPO_ROOT, 'packages/cli/src/main.ts')
    const failure = await run(
      process.execPath,
      ['--import', 'tsx', cli, 'replay', 'automerge-paper', '--clients', 'x'],
      {
        cwd: REPO_ROOT,
      },
    ).catch((err: { code: number; stderr: string }) => err)
    expect(failure).toMatchObject({ code: 2 })
    expect((failure as { stderr: string }).stderr).toMatch(/--server is required/)
    expect((failure as { stderr: string }).stderr).toMatch(/--clients must be a positive integer/)
  })
})
