import {
  parseArchiveUrl,
  parseBatchSize,
  parseBool,
  parseClusterNodes,
  parseCodec,
  parseDb,
  parseDriver,
  parseItemsPerScope,
  parseKeyPrefix,
  parseNonEmptyString,
  parseOptionalPositiveInt,
  parseOptionalString,
  parsePort,
  parsePositiveInt,
  parseRedisUrl,
  parseThreshold,
  parseTimeoutMs,
  parseWindowSize,
  type ClusterNode,
  type DriverChoice,
  type FieldParser,
} from './config-parsers.js';

/** One setting of {@link CacheConfig}: everything about it, in one place. */
export interface ConfigField<T> {
  /** Environment variable, without the `{PREFIX}_`. The original's names are kept. */
  readonly env: string;
  /** Value when the setting is absent. `driver` has none: it is derived. */
  readonly default: T;
  readonly parse: FieldParser<T>;
  /** What the setting does (the README's table is generated from it). */
  readonly doc: string;
  /** Accepted values, for the README. */
  readonly accepts: string;
  /** The default as the README shows it, when the value itself would not say it. */
  readonly shownDefault?: string;
}

const field = <T>(spec: ConfigField<T>): ConfigField<T> => Object.freeze(spec);

/**
 * The one table of settings, in documentation order. The options type, the defaults, the
 * environment names, validation and the README table all come from here.
 */
export const CONFIG_TABLE = Object.freeze({
  driver: field<DriverChoice>({
    env: 'REDIS_DRIVER',
    default: 'memory',
    shownDefault: '`ioredis` when a Redis URL, host or cluster nodes are configured, else `memory`',
    parse: parseDriver,
    accepts: '`memory`, `ioredis`, `node-redis`',
    doc: 'Client library, or the in-process store (a program with no Redis settings runs without a server).',
  }),
  redisUrl: field<string | undefined>({
    env: 'REDIS_URL',
    default: undefined,
    parse: parseRedisUrl,
    accepts: '`redis://` or `rediss://` URL, path a database number',
    doc: 'When set it wins over host, port, password, username and TLS.',
  }),
  redisHost: field<string>({
    env: 'REDIS_HOST',
    default: 'localhost',
    parse: parseNonEmptyString,
    accepts: 'non-empty string',
    doc: 'Redis host of a single node.',
  }),
  redisPort: field<number>({ env: 'REDIS_PORT', default: 6379, parse: parsePort, accepts: 'port 1–65535', doc: 'Redis port of a single node.' }),
  redisPassword: field<string | undefined>({
    env: 'REDIS_PASSWORD',
    default: undefined,
    parse: parseOptionalString,
    accepts: 'string (empty = unset)',
    doc: "Password (`requirepass` or the ACL user's); redacted by `toJSON()`.",
  }),
  redisUsername: field<string | undefined>({
    env: 'REDIS_USERNAME',
    default: undefined,
    parse: parseOptionalString,
    accepts: 'string (empty = unset)',
    doc: 'ACL user name (Redis 6+).',
  }),
  redisTls: field<boolean>({ env: 'REDIS_TLS', default: false, parse: parseBool, accepts: '`true`, `false`, `1`, `0`', doc: 'Connect with TLS.' }),
  clusterNodes: field<ClusterNode[]>({
    env: 'REDIS_CLUSTER_NODES',
    default: [],
    parse: parseClusterNodes,
    accepts: '`host:port,host:port` (`[::1]:7000` for IPv6), or `{ host, port }[]`',
    doc: 'Seed nodes of a Redis Cluster; non-empty means cluster mode.',
  }),
  redisKeyPrefix: field<string>({
    env: 'REDIS_KEY_PREFIX',
    default: 'lix',
    parse: parseKeyPrefix,
    accepts: '1–128 characters without `{`, `}`, `*`, `?`, `[`, `]`, `\\` or spaces',
    doc: 'Prefix of every key the layers write.',
  }),
  redisSocketConnectTimeout: field<number>({
    env: 'REDIS_SOCKET_CONNECT_TIMEOUT',
    default: 5,
    parse: parsePositiveInt,
    accepts: 'whole seconds ≥ 1',
    doc: 'Connect timeout in seconds.',
  }),
  redisCommandTimeoutMs: field<number>({
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    default: 5000,
    parse: parseTimeoutMs,
    accepts: 'milliseconds 1–3 600 000',
    doc: 'Longest a Redis command waits for its answer; also the bound on every semantic and URL embedding cache call during an outage (a miss after this long at most).',
  }),
  redisSocketKeepalive: field<boolean>({
    env: 'REDIS_SOCKET_KEEPALIVE',
    default: true,
    parse: parseBool,
    accepts: '`true`, `false`, `1`, `0`',
    doc: 'TCP keep-alive probes on the client sockets after 30 s of silence, so a server that vanished without closing the connection is noticed; `false` turns them off.',
  }),
  sessionRedisDb: field<number>({
    env: 'SESSION_REDIS_DB',
    default: 2,
    parse: parseDb,
    accepts: 'integer ≥ 0',
    doc: 'Logical database of the session window on a single node (ignored on a cluster).',
  }),
  sessionTtlSeconds: field<number>({
    env: 'SESSION_TTL_SECONDS',
    default: 86_400,
    parse: parsePositiveInt,
    accepts: 'whole seconds ≥ 1',
    doc: 'Lifetime of a hot session in Redis after its last write.',
  }),
  hotWindowSize: field<number>({
    env: 'HOT_WINDOW_SIZE',
    default: 20,
    parse: parseWindowSize,
    accepts: '1–1000',
    doc: 'Messages kept hot in Redis per session before older ones live only in the archive.',
  }),
  sessionMaxTokens: field<number | undefined>({
    env: 'SESSION_MAX_TOKENS',
    default: undefined,
    shownDefault: 'unset (no limit)',
    parse: parseOptionalPositiveInt,
    accepts: 'whole number ≥ 1 (empty = unset)',
    doc: 'Token budget of the hot window.',
  }),
  semanticRedisDb: field<number>({
    env: 'SEMANTIC_REDIS_DB',
    default: 0,
    parse: parseDb,
    accepts: 'integer ≥ 0',
    doc: 'Logical database of the semantic cache on a single node (ignored on a cluster).',
  }),
  semanticTtlSeconds: field<number>({
    env: 'SEMANTIC_TTL_SECONDS',
    default: 300,
    parse: parsePositiveInt,
    accepts: 'whole seconds ≥ 1',
    doc: 'Lifetime of a cached LLM response.',
  }),
  semanticSimilarityThreshold: field<number>({
    env: 'SEMANTIC_SIMILARITY_THRESHOLD',
    default: 0.9,
    parse: parseThreshold,
    accepts: 'number from -1 to 1',
    doc: 'Cosine similarity at or above which a cached response is returned.',
  }),
  semanticMaxItemsPerUrl: field<number>({
    env: 'SEMANTIC_MAX_ITEMS_PER_URL',
    default: 50,
    parse: parseItemsPerScope,
    accepts: '1–1000',
    doc: 'Most responses kept per scope (session or shared pool, and URL); the oldest are dropped first.',
  }),
  urlCacheRedisDb: field<number>({
    env: 'URL_CACHE_REDIS_DB',
    default: 1,
    parse: parseDb,
    accepts: 'integer ≥ 0',
    doc: 'Logical database of the URL embedding cache on a single node (ignored on a cluster).',
  }),
  urlCacheTtlSeconds: field<number>({
    env: 'URL_CACHE_TTL_SECONDS',
    default: 86_400,
    parse: parsePositiveInt,
    accepts: 'whole seconds ≥ 1',
    doc: 'Lifetime of a cached URL embedding.',
  }),
  urlCacheBatchSize: field<number>({
    env: 'URL_CACHE_BATCH_SIZE',
    default: 100,
    parse: parseBatchSize,
    accepts: 'whole number 1–10 000',
    doc: "Most keys one Redis command of the URL cache's `batchGet`/`batchSet` carries; larger calls are split into commands sent together.",
  }),
  archiveDir: field<string>({
    env: 'ARCHIVE_DIR',
    default: './data/conversations',
    parse: parseNonEmptyString,
    accepts: 'non-empty path',
    doc: 'Folder of the file archive (the cold tier).',
  }),
  archiveUrl: field<string | undefined>({
    env: 'ARCHIVE_URL',
    default: undefined,
    shownDefault: 'unset (use `archiveDir`)',
    parse: parseArchiveUrl,
    accepts: '`postgres://` or `postgresql://` URL',
    doc: 'Keep the archive in PostgreSQL (`@lix/archive/postgres`, needs `pg`; run `migrateArchive(config)` once), shared by every host.',
  }),
  diskTtlDays: field<number>({
    env: 'DISK_TTL_DAYS',
    default: 14,
    parse: parsePositiveInt,
    accepts: 'whole days ≥ 1',
    doc: 'Archived sessions untouched this long are purged.',
  }),
  archiveCodec: field<string>({
    env: 'ARCHIVE_CODEC',
    default: 'brotli',
    parse: parseCodec,
    accepts: '`brotli`, `deflate`, `huffman`, `none`',
    doc: 'Codec of newly written archive blocks.',
  }),
  evictAfterMinutes: field<number>({
    env: 'EVICT_AFTER_MINUTES',
    default: 120,
    parse: parsePositiveInt,
    accepts: 'whole minutes ≥ 1',
    doc: 'A session idle this long leaves Redis; the archive keeps it.',
  }),
  embeddingModelId: field<string>({
    env: 'EMBEDDING_MODEL_ID',
    default: 'default',
    parse: parseNonEmptyString,
    accepts: 'non-empty string',
    doc: 'Identifies the embedding model, so vectors of different models never mix.',
  }),
});

/**
 * Settings that existed and were removed, with why: passing one is an `UNKNOWN_OPTION`
 * error that says so, instead of a silent no-op.
 */
export const REMOVED_CONFIG_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  redisPoolSize:
    'redisPoolSize was removed: it was never read. Each driver multiplexes every command over one connection per Redis node (pipelining), so there is no pool to size.',
});
