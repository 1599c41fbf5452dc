/**
 * The database schema as numbered migrations, and the routine that applies
 * them on open. The same SQL runs on PostgreSQL and PGlite. Each migration is
 * a list of single statements (PGlite's parameterised `query` runs one
 * statement at a time). Migrations are append-only: once released, a
 * migration's SQL never changes; a change is a new migration.
 */
import type { SqlClient } from './sql-client.js'

/** One numbered schema change. */
export interface Migration {
  /** Position in the sequence, from 1, without holes. */
  readonly version: number
  /** Short description, recorded in `schema_migrations`. */
  readonly name: string
  /** Statements run in order, inside the migration transaction. */
  readonly statements: readonly string[]
}

/**
 * Key of the advisory lock that serialises migrations across processes: an
 * arbitrary constant that no other part of Quire uses ("quire" in ASCII).
 * @internal
 */
export const MIGRATION_LOCK_KEY = 0x7175697265

/**
 * Every migration, in order.
 *
 * `documents` keeps one row per document with its sequence counter; later
 * migrations add its organisation, title and shard columns. `last_seq` is
 * advanced by the writer in the same transaction that inserts the updates,
 * so every seq up to it is committed. `last_checkpoint_at` is null until the
 * first checkpoint; the compactor measures its interval from it (or from
 * `created_at` when it is null).
 *
 * `updates` is the log and the source of truth: gap-free `seq` per document,
 * and `bus_id` unique per document so a batch retried after an unknown
 * outcome writes nothing twice. `session_id` stays null until sessions exist.
 *
 * `checkpoints` are derived (rebuildable from the log): unnamed ones are made
 * by compaction, at most one per (document, seq); named ones are versions
 * saved by a user. `dead_letters` holds updates that repeatedly failed to
 * persist; it has no foreign key because the failing write may be the one
 * that creates the document row.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'documents, updates, checkpoints, dead letters',
    statements: [
      `CREATE TABLE documents (
        id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_seq bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
        last_checkpoint_seq bigint NOT NULL DEFAULT 0 CHECK (last_checkpoint_seq >= 0),
        last_checkpoint_at timestamptz NULL,
        schema_version integer NOT NULL DEFAULT 1,
        deleted_at timestamptz NULL
      )`,
      `CREATE TABLE updates (
        doc_id text NOT NULL REFERENCES documents (id),
        seq bigint NOT NULL CHECK (seq >= 1),
        data bytea NOT NULL,
        user_id text NULL,
        session_id text NULL,
        conn_id text NULL,
        received_at timestamptz NOT NULL,
        bus_id text NOT NULL,
        PRIMARY KEY (doc_id, seq),
        CONSTRAINT updates_doc_id_bus_id_key UNIQUE (doc_id, bus_id)
      )`,
      `CREATE TABLE checkpoints (
        id bigserial PRIMARY KEY,
        doc_id text NOT NULL REFERENCES documents (id),
        seq bigint NOT NULL CHECK (seq >= 0),
        state bytea NOT NULL,
        state_vector bytea NOT NULL,
        html text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        name text NULL,
        created_by text NULL
      )`,
      `CREATE UNIQUE INDEX checkpoints_doc_id_seq_unnamed_key
        ON checkpoints (doc_id, seq) WHERE name IS NULL`,
      `CREATE INDEX checkpoints_doc_id_seq_idx ON checkpoints (doc_id, seq)`,
      `CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        doc_id text NOT NULL,
        data bytea NOT NULL,
        user_id text NULL,
        conn_id text NULL,
        received_at timestamptz NOT NULL,
        bus_id text NOT NULL,
        attempts integer NOT NULL,
        last_error text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX dead_letters_doc_id_idx ON dead_letters (doc_id)`,
    ],
  },
  {
    version: 2,
    name: 'accounts, organisations, document access, sessions',
    statements: [
      // Emails are compared lower-cased; the unique index enforces it.
      `CREATE TABLE users (
        id text PRIMARY KEY,
        email text NOT NULL,
        name text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        password_changed_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE UNIQUE INDEX users_email_idx ON users (lower(email))`,
      `CREATE TABLE organisations (
        id text PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE organisation_members (
        org_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, user_id)
      )`,
      `CREATE INDEX organisation_members_user_idx ON organisation_members (user_id)`,
      // Documents written before accounts existed have no organisation.
      `ALTER TABLE documents ADD COLUMN org_id text REFERENCES organisations (id)`,
      `ALTER TABLE documents ADD COLUMN title text NOT NULL DEFAULT ''`,
      `ALTER TABLE documents ADD COLUMN created_by text`,
      `CREATE INDEX documents_org_idx ON documents (org_id) WHERE deleted_at IS NULL`,
      `CREATE TABLE document_members (
        doc_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'editor', 'commenter', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (doc_id, user_id)
      )`,
      `CREATE INDEX document_members_user_idx ON document_members (user_id)`,
      // One row per session family: the refresh token is stored only as a
      // hash; the previous hash allows a short grace window for two tabs
      // refreshing at once, and its reuse after that revokes the family.
      `CREATE TABLE sessions (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        refresh_hash text NOT NULL,
        previous_hash text,
        rotated_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      )`,
      `CREATE UNIQUE INDEX sessions_refresh_hash_idx ON sessions (refresh_hash)`,
      `CREATE INDEX sessions_previous_hash_idx ON sessions (previous_hash)`,
      `CREATE INDEX sessions_user_idx ON sessions (user_id)`,
      `CREATE TABLE settings (
        key text PRIMARY KEY,
        value text NOT NULL
      )`,
    ],
  },
  {
    version: 3,
    name: 'retired refresh tokens',
    statements: [
      // Every refresh token a family ever retired: presenting any of them
      // again (not only the latest predecessor) is reuse.
      `CREATE TABLE retired_refresh_tokens (
        hash text PRIMARY KEY,
        session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        retired_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX retired_refresh_tokens_session_idx ON retired_refresh_tokens (session_id)`,
    ],
  },
  {
    version: 4,
    name: 'history retention mark',
    statements: [
      // Retention (store/history-retention.ts) deletes updates at or below
      // this seq, always a checkpoint it keeps: a state at a seq up to it
      // can be rebuilt only where a checkpoint sits, and the API answers 410
      // for the others instead of 404.
      `ALTER TABLE documents ADD COLUMN history_pruned_seq bigint NOT NULL DEFAULT 0
        CHECK (history_pruned_seq >= 0)`,
    ],
  },
  {
    version: 5,
    name: 'legacy imports',
    statements: [
      // What `quire import-legacy` made of each legacy snapshot. The primary
      // key makes a second import of the same snapshot impossible, and the
      // row is written in the transaction that creates the document and its
      // first update, so an interrupted run leaves all three or none.
      `CREATE TABLE legacy_imports (
        source_kind text NOT NULL CHECK (source_kind IN ('table', 'dir')),
        legacy_id text NOT NULL,
        doc_id text NOT NULL UNIQUE REFERENCES documents (id),
        imported_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_kind, legacy_id)
      )`,
    ],
  },
]

/**
 * Throws when `migrations` is not numbered 1, 2, 3, … in order: a broken
 * list would apply changes out of order on some databases.
 * @internal
 */
export const assertMigrationOrder = (migrations: readonly Migration[]): void => {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migration at index ${index} has version ${migration.version}, expected ${index + 1}`,
      )
    }
  })
}

/**
 * Brings the database up to the latest migration and resolves with the
 * versions this call applied (empty when it was already current).
 *
 * Everything happens in one transaction that first takes a transaction-level
 * advisory lock, so processes opening the same database at once apply each
 * migration exactly once: the others wait, then find it recorded. A failing
 * migration rolls back whole and rejects with the driver's error. Versions
 * recorded in the database but unknown to this code (a newer release ran
 * first) are left alone.
 */
export const migrate = async (
  client: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<readonly number[]> => {
  assertMigrationOrder(migrations)
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`)
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map((row) => row.version))

    const appliedNow: number[] = []
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue
      for (const statement of migration.statements) await tx.query(statement)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      appliedNow.push(migration.version)
    }
    return appliedNow
  })
}
