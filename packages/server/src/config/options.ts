/**
 * Every setting of `quire serve`, its default, unit and environment variable,
 * in one table. `resolveServeConfig` reads flags and the environment once at
 * start-up, validates everything with zod, reports every problem at once and
 * returns a frozen object; nothing else in the server reads `process.env`.
 */
import { z } from 'zod'

/** One configurable setting: its flag, environment variable and help text. */
export interface OptionSpec {
  readonly flag: string
  readonly env: string
  readonly help: string
  readonly kind: 'string' | 'integer'
}

/** The flags of `quire serve`, in the order `--help` lists them. */
export const SERVE_OPTIONS = {
  host: {
    flag: 'host',
    env: 'HOST',
    kind: 'string',
    help: 'address to listen on (default 127.0.0.1)',
  },
  port: {
    flag: 'port',
    env: 'PORT',
    kind: 'integer',
    help: 'TCP port for HTTP and WebSocket (default 8080)',
  },
  dataDir: {
    flag: 'data-dir',
    env: 'QUIRE_DATA_DIR',
    kind: 'string',
    help: 'folder of the embedded database, used when no database URL is set (default ./data)',
  },
  databaseUrl: {
    flag: 'database-url',
    env: 'DATABASE_URL',
    kind: 'string',
    help: 'PostgreSQL connection string; unset = embedded PostgreSQL (PGlite) in the data dir',
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'REDIS_URL',
    kind: 'string',
    help: 'Redis connection string; unset = single node with an in-process bus',
  },
  redisPrefix: {
    flag: 'redis-prefix',
    env: 'QUIRE_REDIS_PREFIX',
    kind: 'string',
    help: 'prefix of every Redis key; deployments sharing a Redis need different ones (default quire)',
  },
  role: {
    flag: 'role',
    env: 'QUIRE_ROLE',
    kind: 'string',
    help: 'all (sync node and persister), node (sync only) or persister (needs --redis-url) (default all)',
  },
  streamGraceMs: {
    flag: 'stream-grace-ms',
    env: 'QUIRE_STREAM_GRACE_MS',
    kind: 'integer',
    help: 'how long persisted updates stay in a Redis stream for nodes catching up (default 60000)',
  },
  persistClaimIdleMs: {
    flag: 'persist-claim-idle-ms',
    env: 'QUIRE_PERSIST_CLAIM_IDLE_MS',
    kind: 'integer',
    help: 'unacknowledged persister work older than this is taken over by another persister (default 10000)',
  },
  webDir: {
    flag: 'web-dir',
    env: 'QUIRE_WEB_DIR',
    kind: 'string',
    help: 'folder of the built web app to serve (default: packages/web/dist of this checkout, when built)',
  },
  trustProxy: {
    flag: 'trust-proxy',
    env: 'QUIRE_TRUST_PROXY',
    kind: 'string',
    help: 'comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed, e.g. 127.0.0.1 (default none)',
  },
  auth: {
    flag: 'auth',
    env: 'QUIRE_AUTH',
    kind: 'string',
    help: 'required (accounts, cookies, roles) or none (anyone may open any document: trusted networks, benchmarks) (default required)',
  },
  publicOrigin: {
    flag: 'public-origin',
    env: 'QUIRE_PUBLIC_ORIGIN',
    kind: 'string',
    help: 'the origin browsers use, e.g. https://docs.example.com; state-changing requests and WebSocket upgrades from any other origin are refused (default http://<host>:<port>)',
  },
  jwtSecret: {
    flag: 'jwt-secret',
    env: 'QUIRE_JWT_SECRET',
    kind: 'string',
    help: 'HMAC key of access tokens, at least 32 characters; unset = generated once and kept in the database',
  },
  accessTokenTtlS: {
    flag: 'access-token-ttl-s',
    env: 'QUIRE_ACCESS_TOKEN_TTL_S',
    kind: 'integer',
    help: 'lifetime of an access token, 300 to 900 seconds (default 600)',
  },
  refreshTokenTtlS: {
    flag: 'refresh-token-ttl-s',
    env: 'QUIRE_REFRESH_TOKEN_TTL_S',
    kind: 'integer',
    help: 'absolute lifetime of a session, seconds (default 604800, 7 days)',
  },
  refreshIdleTtlS: {
    flag: 'refresh-idle-ttl-s',
    env: 'QUIRE_REFRESH_IDLE_TTL_S',
    kind: 'integer',
    help: 'a session unused this long ends, seconds (default 86400)',
  },
  maxSocketsPerUser: {
    flag: 'max-sockets-per-user',
    env: 'QUIRE_MAX_SOCKETS_PER_USER',
    kind: 'integer',
    help: 'open WebSockets one user may hold on a node (default 64)',
  },
  maxSocketsPerAddress: {
    flag: 'max-sockets-per-address',
    env: 'QUIRE_MAX_SOCKETS_PER_ADDRESS',
    kind: 'integer',
    help: 'open WebSockets one client address may hold on a node (default 512)',
  },
  logLevel: {
    flag: 'log-level',
    env: 'LOG_LEVEL',
    kind: 'string',
    help: 'fatal, error, warn, info, debug, trace or silent (default info)',
  },
  maxMessageBytes: {
    flag: 'max-message-bytes',
    env: 'QUIRE_MAX_MESSAGE_BYTES',
    kind: 'integer',
    help: 'largest WebSocket message accepted; bigger ones close the socket with 1009 (default 4194304)',
  },
  maxSendBufferBytes: {
    flag: 'max-send-buffer-bytes',
    env: 'QUIRE_MAX_SEND_BUFFER_BYTES',
    kind: 'integer',
    help: 'bytes queued for a socket that does not read before it is closed with 4508 (default 16777216)',
  },
  maxPendingUpdateBytes: {
    flag: 'max-pending-update-bytes',
    env: 'QUIRE_MAX_PENDING_UPDATE_BYTES',
    kind: 'integer',
    help: 'bytes of updates held back per document for missing dependencies (default 262144)',
  },
  maxDocumentBytes: {
    flag: 'max-document-bytes',
    env: 'QUIRE_MAX_DOCUMENT_BYTES',
    kind: 'integer',
    help: 'encoded size of a document past which edits that add content are refused with 4413 (deleting still works) (default 67108864)',
  },
  rateLimitMessagesPerS: {
    flag: 'rate-limit-messages-per-s',
    env: 'QUIRE_RATE_LIMIT_MESSAGES_PER_S',
    kind: 'integer',
    help: 'messages per second one socket may send (bursts of twice that); over it the node stops reading the socket for a while, never drops; 0 = off (default 1000)',
  },
  rateLimitBytesPerS: {
    flag: 'rate-limit-bytes-per-s',
    env: 'QUIRE_RATE_LIMIT_BYTES_PER_S',
    kind: 'integer',
    help: 'bytes per second one socket may send (bursts up to --max-message-bytes); 0 = off (default 4194304)',
  },
  documentRateLimitMessagesPerS: {
    flag: 'document-rate-limit-messages-per-s',
    env: 'QUIRE_DOCUMENT_RATE_LIMIT_MESSAGES_PER_S',
    kind: 'integer',
    help: 'messages per second all sockets of one document on a node may send; 0 = off (default 5000)',
  },
  maxHeavyRequestsPerUser: {
    flag: 'max-heavy-requests-per-user',
    env: 'QUIRE_MAX_HEAVY_REQUESTS_PER_USER',
    kind: 'integer',
    help: 'exports, imports, comparisons (changes), saves and restores of versions one user may run at once on a node, of which one import; more get 429; 0 = off (default 2)',
  },
  heavyRequestsPerMinute: {
    flag: 'heavy-requests-per-minute',
    env: 'QUIRE_HEAVY_REQUESTS_PER_MINUTE',
    kind: 'integer',
    help: 'such heavy requests one user may start per minute on a node (bursts of 20); more get 429 with Retry-After; 0 = off (default 60)',
  },
  maxHeavyRequests: {
    flag: 'max-heavy-requests',
    env: 'QUIRE_MAX_HEAVY_REQUESTS',
    kind: 'integer',
    help: 'such heavy requests running at once on a node, all users; more get 503 with Retry-After; 0 = off (default 8)',
  },
  importTimeoutMs: {
    flag: 'import-timeout-ms',
    env: 'QUIRE_IMPORT_TIMEOUT_MS',
    kind: 'integer',
    help: 'longest an imported file may take to parse in the import worker before it is refused with 422; also the longest other imports wait behind it (default 5000)',
  },
  renderTimeoutMs: {
    flag: 'render-timeout-ms',
    env: 'QUIRE_RENDER_TIMEOUT_MS',
    kind: 'integer',
    help: 'longest an export or a checkpoint HTML rendering may take in the render worker; an export past it gets 422 (default 10000)',
  },
  maxUnsavedUpdates: {
    flag: 'max-unsaved-updates',
    env: 'QUIRE_MAX_UNSAVED_UPDATES',
    kind: 'integer',
    help: 'edits a node may hold that are not yet stored (a slow or stalled database); past it the node stops reading sockets until they drain (default 20000)',
  },
  pingIntervalMs: {
    flag: 'ping-interval-ms',
    env: 'QUIRE_PING_INTERVAL_MS',
    kind: 'integer',
    help: 'how often sockets are pinged; two rounds in a row with nothing heard from a client close its socket (default 10000)',
  },
  roomIdleMs: {
    flag: 'room-idle-ms',
    env: 'QUIRE_ROOM_IDLE_MS',
    kind: 'integer',
    help: 'grace period before a document with no sockets is unloaded (default 30000)',
  },
  loadTimeoutMs: {
    flag: 'load-timeout-ms',
    env: 'QUIRE_LOAD_TIMEOUT_MS',
    kind: 'integer',
    help: 'how long loading a document may take before its clients are told to retry (default 15000)',
  },
  batchDelayMs: {
    flag: 'batch-delay-ms',
    env: 'QUIRE_BATCH_DELAY_MS',
    kind: 'integer',
    help: 'longest wait before a group commit of updates (default 4)',
  },
  batchMaxUpdates: {
    flag: 'batch-max-updates',
    env: 'QUIRE_BATCH_MAX_UPDATES',
    kind: 'integer',
    help: 'most updates in one group commit (default 512)',
  },
  compactAfterUpdates: {
    flag: 'compact-after-updates',
    env: 'QUIRE_COMPACT_AFTER_UPDATES',
    kind: 'integer',
    help: 'updates since the last checkpoint that trigger a new one (default 1000)',
  },
  compactIntervalMs: {
    flag: 'compact-interval-ms',
    env: 'QUIRE_COMPACT_INTERVAL_MS',
    kind: 'integer',
    help: 'age of the last checkpoint after which any new update triggers one (default 300000)',
  },
  historyRetentionDays: {
    flag: 'history-retention-days',
    env: 'QUIRE_HISTORY_RETENTION_DAYS',
    kind: 'integer',
    help: 'days every stored update is kept; older history is thinned to checkpoints, never past the latest one; 0 = keep everything (default 30)',
  },
  historyCheckpointSpacingHours: {
    flag: 'history-checkpoint-spacing-hours',
    env: 'QUIRE_HISTORY_CHECKPOINT_SPACING_HOURS',
    kind: 'integer',
    help: 'beyond the retention window, one automatic checkpoint is kept per this many hours; named versions are always kept (default 24)',
  },
  historyPruneIntervalMs: {
    flag: 'history-prune-interval-ms',
    env: 'QUIRE_HISTORY_PRUNE_INTERVAL_MS',
    kind: 'integer',
    help: 'mean time between retention passes (jittered; one node prunes a database at a time) (default 3600000)',
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout-ms',
    env: 'QUIRE_SHUTDOWN_TIMEOUT_MS',
    kind: 'integer',
    help: 'longest graceful shutdown before the process exits anyway (default 10000)',
  },
} as const satisfies Record<string, OptionSpec>

export type ServeOptionName = keyof typeof SERVE_OPTIONS

/** A whole number written in decimal digits (no hex, exponents or signs), within bounds. */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().max(max, `must be at most ${max}`).min(min, `must be at least ${min}`))

const connectionUrl = (protocols: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol)
      } catch {
        return false
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  )

/** Validation of the raw values; defaults live here, once. */
const serveConfigSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: integer(0, 65535).default(8080),
  dataDir: z.string().min(1).default('./data'),
  databaseUrl: connectionUrl(['postgres:', 'postgresql:']).optional(),
  redisUrl: connectionUrl(['redis:', 'rediss:']).optional(),
  redisPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -')
    .default('quire'),
  role: z.enum(['all', 'node', 'persister']).default('all'),
  streamGraceMs: integer(1000, 3_600_000).default(60_000),
  persistClaimIdleMs: integer(100, 600_000).default(10_000),
  webDir: z.string().min(1).optional(),
  trustProxy: z
    .string()
    .regex(/^[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*$/, 'must be addresses or CIDRs separated by commas')
    .optional(),
  auth: z.enum(['required', 'none']).default('required'),
  publicOrigin: z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value)
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value
      } catch {
        return false
      }
    }, 'must be an origin such as https://docs.example.com (scheme, host, optional port, nothing else)')
    .optional(),
  jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
  accessTokenTtlS: integer(300, 900).default(600),
  refreshTokenTtlS: integer(600, 90 * 86_400).default(7 * 86_400),
  refreshIdleTtlS: integer(600, 90 * 86_400).default(86_400),
  maxSocketsPerUser: integer(1, 100_000).default(64),
  maxSocketsPerAddress: integer(1, 1_000_000).default(512),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  maxMessageBytes: integer(1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  maxSendBufferBytes: integer(64 * 1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  maxPendingUpdateBytes: integer(0, 256 * 1024 * 1024).default(256 * 1024),
  maxDocumentBytes: integer(1024, 2 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  rateLimitMessagesPerS: integer(0, 10_000_000).default(1000),
  rateLimitBytesPerS: integer(0, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  documentRateLimitMessagesPerS: integer(0, 10_000_000).default(5000),
  maxHeavyRequestsPerUser: integer(0, 1000).default(2),
  heavyRequestsPerMinute: integer(0, 100_000).default(60),
  maxHeavyRequests: integer(0, 10_000).default(8),
  importTimeoutMs: integer(100, 600_000).default(5_000),
  renderTimeoutMs: integer(100, 600_000).default(10_000),
  maxUnsavedUpdates: integer(100, 10_000_000).default(20_000),
  pingIntervalMs: integer(100, 600_000).default(10_000),
  roomIdleMs: integer(0, 3_600_000).default(30_000),
  loadTimeoutMs: integer(100, 600_000).default(15_000),
  batchDelayMs: integer(0, 1000).default(4),
  batchMaxUpdates: integer(1, 5000).default(512),
  compactAfterUpdates: integer(1, 10_000_000).default(1000),
  compactIntervalMs: integer(1000, 86_400_000).default(300_000),
  historyRetentionDays: integer(0, 36_500).default(30),
  historyCheckpointSpacingHours: integer(1, 8_760).default(24),
  historyPruneIntervalMs: integer(1_000, 7 * 86_400_000).default(3_600_000),
  shutdownTimeoutMs: integer(100, 600_000).default(10_000),
})

/** The validated, frozen configuration of one `quire serve` process. */
export type ServeConfig = Readonly<z.infer<typeof serveConfigSchema>>

/** Raised when flags or environment hold invalid values; lists every problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
  }
}

/**
 * Merges flags over environment variables and validates them.
 * @param flags values given on the command line, by option name
 * @param env the process environment (injected for tests)
 * @throws ConfigError listing every invalid value
 */
export const resolveServeConfig = (
  flags: Partial<Record<ServeOptionName, string>>,
  env: NodeJS.ProcessEnv,
): ServeConfig => {
  const raw: Record<string, string> = {}
  for (const [name, spec] of Object.entries(SERVE_OPTIONS) as [ServeOptionName, OptionSpec][]) {
    const value = flags[name] ?? env[spec.env]
    if (value !== undefined && value !== '') raw[name] = value
  }
  const parsed = serveConfigSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path[0] as ServeOptionName | undefined
        const spec = name === undefined ? undefined : SERVE_OPTIONS[name]
        const label = spec === undefined ? 'config' : `--${spec.flag} (${spec.env})`
        return `${label}: ${issue.message}`
      }),
    )
  }
  if (parsed.data.role !== 'all' && parsed.data.redisUrl === undefined) {
    throw new ConfigError([
      `--role ${parsed.data.role} (QUIRE_ROLE): needs --redis-url (REDIS_URL)`,
    ])
  }
  return Object.freeze(parsed.data)
}
