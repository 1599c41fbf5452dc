/**
 * The SqlClient contract on both adapters: the same query returns the same
 * JavaScript shapes, and transactions commit, roll back and nest alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildValuesList, parseBytea, type SqlClient } from './sql-client.js'
import { TEST_ENGINES, type TestDatabase } from './store-test-support.js'

describe.each(TEST_ENGINES)('SqlClient on $name', (engine) => {
  let database: TestDatabase
  let client: SqlClient
  const table = `client_test_${Math.random().toString(36).slice(2, 10)}`

  beforeAll(async () => {
    database = await engine.open()
    client = await database.connect()
    await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, note text)`)
  })

  afterAll(async () => {
    await client.query(`DROP TABLE ${table}`)
    await client.close()
    await database.cleanup()
  })

  it('returns numbers for int8, Uint8Array for bytea and Date for timestamptz', async () => {
    const bytes = new Uint8Array([0, 1, 254, 255])

    const [row] = await client.query<Record<string, unknown>>(
      `SELECT 42::int8 AS big, 7::int4 AS small, 1.5::float8 AS ratio, $1::bytea AS data,
              '\\x'::bytea AS empty, now() AS at, NULL::text AS nothing, 'q'::text AS letter,
              count(*) AS total`,
      [bytes],
    )

    expect(row).toEqual({
      big: 42,
      small: 7,
      ratio: 1.5,
      data: bytes,
      empty: new Uint8Array(),
      at: expect.any(Date),
      nothing: null,
      letter: 'q',
      total: 1,
    })
  })

  it('returns bytea over its own exact-size buffer, never a view into a pool', async () => {
    const [row] = await client.query<{ data: Uint8Array }>('SELECT $1::bytea AS data', [
      new Uint8Array([9, 8, 7]),
    ])

    expect(row?.data.constructor).toBe(Uint8Array)
    expect(row?.data.byteOffset).toBe(0)
    expect(row?.data.buffer.byteLength).toBe(3)
  })

  it('binds a Uint8Array view by its own bytes only', async () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5])
    const view = backing.subarray(1, 3)

    const [row] = await client.query<{ data: Uint8Array }>('SELECT $1::bytea AS data', [view])

    expect(row?.data).toEqual(new Uint8Array([2, 3]))
  })

  it('rejects an int8 beyond the exact range of a number', async () => {
    await expect(client.query('SELECT 9007199254740993::int8 AS big')).rejects.toThrow(RangeError)
    await expect(client.query('SELECT 1 AS still_usable')).resolves.toEqual([{ still_usable: 1 }])
  })

  it('commits a transaction that resolves and rolls back one that rejects', async () => {
    await client.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, note) VALUES (1, 'kept')`)
    })
    const failing = client.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, note) VALUES (2, 'dropped')`)
      throw new Error('abort')
    })

    await expect(failing).rejects.toThrow('abort')
    expect(await client.query(`SELECT id, note FROM ${table} ORDER BY id`)).toEqual([
      { id: 1, note: 'kept' },
    ])
  })

  it('rolls back a nested transaction alone, as a savepoint', async () => {
    await client.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, note) VALUES (10, 'outer')`)
      await expect(
        tx.transaction(async (inner) => {
          await inner.query(`INSERT INTO ${table} (id, note) VALUES (11, 'inner')`)
          throw new Error('inner abort')
        }),
      ).rejects.toThrow('inner abort')
      await tx.transaction((inner) =>
        inner.query(`INSERT INTO ${table} (id, note) VALUES (12, 'inner kept')`),
      )
    })

    const rows = await client.query<{ id: number }>(
      `SELECT id FROM ${table} WHERE id >= 10 ORDER BY id`,
    )
    expect(rows.map((row) => row.id)).toEqual([10, 12])
  })

  it('refuses to close a transaction client', async () => {
    await client.transaction(async (tx) => {
      await expect(tx.close()).rejects.toMatchObject({ code: 'STORE_MISUSE' })
    })
  })
})

describe('buildValuesList', () => {
  it('numbers parameters row by row and wraps the columns asked for', () => {
    const wrap = [undefined, (param: string) => `f(${param})`]

    expect(buildValuesList(2, 2, wrap)).toBe('($1, f($2)), ($3, f($4))')
  })
})

describe('parseBytea', () => {
  it('refuses bytea text that is not in hex format', () => {
    expect(() => parseBytea('\\001')).toThrow(RangeError)
  })
})
