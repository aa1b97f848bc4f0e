import type { ArchiveCodec } from '@lix/archive';
import { ConfigError } from './errors.js';
import { describeValue } from './describe.js';

/** Which {@link KVDriver} implementation the runtime opens. */
export type DriverChoice = 'memory' | 'ioredis' | 'node-redis';

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/**
 * Every setting of the original `CacheConfig` (camelCased, same defaults) plus the
 * driver choice, URL, ACL user, TLS, cluster nodes, archive codec and embedding model.
 */
export interface CacheConfigOptions {
  /**
   * Client library, or the in-process store. Default: `'ioredis'` when a Redis URL,
   * host or cluster nodes are configured, otherwise `'memory'` (so a program with no
   * Redis settings runs without a server).
   */
  driver: DriverChoice;
  /** `redis://` or `rediss://` URL; when set it wins over host/port/password/username/tls. */
  redisUrl: string | undefined;
  redisHost: string;
  redisPort: number;
  redisPassword: string | undefined;
  /** ACL user name (Redis 6+). */
  redisUsername: string | undefined;
  /** Connect with TLS. */
  redisTls: boolean;
  /** Seed nodes of a Redis Cluster; non-empty means cluster mode. */
  clusterNodes: ClusterNode[];
  /** Prefix of every key the layers write (no braces, glob characters or spaces). */
  redisKeyPrefix: string;
  /** Connect timeout in seconds. */
  redisSocketConnectTimeout: number;
  /**
   * Longest a Redis command may wait for its answer, in milliseconds (default 5000). It
   * also bounds every semantic and URL embedding cache call during an outage: such a call
   * is a miss after this long at most.
   */
  redisCommandTimeoutMs: number;
  /** TCP keep-alive on the client sockets. */
  redisSocketKeepalive: boolean;
  /** Upper bound on pooled connections (the original's connection-pool size). */
  redisPoolSize: number;

  /** Logical database of the session window on a single node (ignored on a cluster). */
  sessionRedisDb: number;
  sessionTtlSeconds: number;
  /** Messages kept hot in Redis per session before older ones move to the archive (1 to 1000). */
  hotWindowSize: number;
  /** Token budget of the hot window; `undefined` means no limit. */
  sessionMaxTokens: number | undefined;

  /** Logical database of the semantic cache on a single node (ignored on a cluster). */
  semanticRedisDb: number;
  semanticTtlSeconds: number;
  /** Cosine similarity at or above which a cached response is returned, in [-1, 1]. */
  semanticSimilarityThreshold: number;
  semanticMaxItemsPerUrl: number;

  /** Logical database of the URL embedding cache on a single node (ignored on a cluster). */
  urlCacheRedisDb: number;
  urlCacheTtlSeconds: number;
  /** Embeddings written per round trip by batch operations. */
  urlCacheBatchSize: number;

  /** Directory of the on-disk archive (cold tier). */
  archiveDir: string;
  /**
   * `postgres://user:password@host:5432/db`: keep the archive in PostgreSQL instead of
   * `archiveDir`, shared by every host (needs the `pg` package). Unset: the folder.
   */
  archiveUrl: string | undefined;
  /** Archived sessions untouched for this many days are purged. */
  diskTtlDays: number;
  /** Codec of newly written archive files. */
  archiveCodec: string;

  /** A session idle this long moves from Redis to the archive. */
  evictAfterMinutes: number;

  /** Identifies the embedding model, so vectors of different models never mix. */
  embeddingModelId: string;
}

type Kind =
  | 'driver'
  | 'string'
  | 'nonEmptyString'
  | 'optionalString'
  | 'url'
  | 'archiveUrl'
  | 'port'
  | 'db'
  | 'positiveInt'
  | 'optionalPositiveInt'
  | 'bool'
  | 'threshold'
  | 'clusterNodes'
  | 'codec'
  | 'keyPrefix'
  | 'windowSize'
  | 'timeoutMs';

interface FieldSpec {
  env: string;
  kind: Kind;
}

/**
 * Every field with its environment variable (without prefix) and its kind. The
 * original's variable names are kept; the new settings follow the same pattern.
 */
const FIELDS: { readonly [K in keyof CacheConfigOptions]: FieldSpec } = {
  driver: { env: 'REDIS_DRIVER', kind: 'driver' },
  redisUrl: { env: 'REDIS_URL', kind: 'url' },
  redisHost: { env: 'REDIS_HOST', kind: 'nonEmptyString' },
  redisPort: { env: 'REDIS_PORT', kind: 'port' },
  redisPassword: { env: 'REDIS_PASSWORD', kind: 'optionalString' },
  redisUsername: { env: 'REDIS_USERNAME', kind: 'optionalString' },
  redisTls: { env: 'REDIS_TLS', kind: 'bool' },
  clusterNodes: { env: 'REDIS_CLUSTER_NODES', kind: 'clusterNodes' },
  redisKeyPrefix: { env: 'REDIS_KEY_PREFIX', kind: 'keyPrefix' },
  redisSocketConnectTimeout: { env: 'REDIS_SOCKET_CONNECT_TIMEOUT', kind: 'positiveInt' },
  redisCommandTimeoutMs: { env: 'REDIS_COMMAND_TIMEOUT_MS', kind: 'timeoutMs' },
  redisSocketKeepalive: { env: 'REDIS_SOCKET_KEEPALIVE', kind: 'bool' },
  redisPoolSize: { env: 'REDIS_POOL_SIZE', kind: 'positiveInt' },
  sessionRedisDb: { env: 'SESSION_REDIS_DB', kind: 'db' },
  sessionTtlSeconds: { env: 'SESSION_TTL_SECONDS', kind: 'positiveInt' },
  hotWindowSize: { env: 'HOT_WINDOW_SIZE', kind: 'windowSize' },
  sessionMaxTokens: { env: 'SESSION_MAX_TOKENS', kind: 'optionalPositiveInt' },
  semanticRedisDb: { env: 'SEMANTIC_REDIS_DB', kind: 'db' },
  semanticTtlSeconds: { env: 'SEMANTIC_TTL_SECONDS', kind: 'positiveInt' },
  semanticSimilarityThreshold: { env: 'SEMANTIC_SIMILARITY_THRESHOLD', kind: 'threshold' },
  semanticMaxItemsPerUrl: { env: 'SEMANTIC_MAX_ITEMS_PER_URL', kind: 'positiveInt' },
  urlCacheRedisDb: { env: 'URL_CACHE_REDIS_DB', kind: 'db' },
  urlCacheTtlSeconds: { env: 'URL_CACHE_TTL_SECONDS', kind: 'positiveInt' },
  urlCacheBatchSize: { env: 'URL_CACHE_BATCH_SIZE', kind: 'positiveInt' },
  archiveDir: { env: 'ARCHIVE_DIR', kind: 'nonEmptyString' },
  archiveUrl: { env: 'ARCHIVE_URL', kind: 'archiveUrl' },
  diskTtlDays: { env: 'DISK_TTL_DAYS', kind: 'positiveInt' },
  archiveCodec: { env: 'ARCHIVE_CODEC', kind: 'codec' },
  evictAfterMinutes: { env: 'EVICT_AFTER_MINUTES', kind: 'positiveInt' },
  embeddingModelId: { env: 'EMBEDDING_MODEL_ID', kind: 'nonEmptyString' },
};

/** Names of every {@link CacheConfig} field, in documentation order. */
export const CONFIG_FIELDS: readonly (keyof CacheConfigOptions)[] = Object.keys(FIELDS) as (keyof CacheConfigOptions)[];

/** Codecs `@lix/archive` offers; brotli is its default, chosen by its benchmark. */
export const ARCHIVE_CODECS: readonly ArchiveCodec[] = ['brotli', 'deflate', 'huffman', 'none'];

/** True when `value` is one of {@link ARCHIVE_CODECS} (narrows it to the archive's codec type). */
export function isArchiveCodec(value: unknown): value is ArchiveCodec {
  return typeof value === 'string' && (ARCHIVE_CODECS as readonly string[]).includes(value);
}

/** The defaults of the original package (and of the new settings). `driver` is derived, see {@link CacheConfigOptions.driver}. */
export const CONFIG_DEFAULTS: Readonly<Omit<CacheConfigOptions, 'driver'>> = Object.freeze({
  redisUrl: undefined,
  redisHost: 'localhost',
  redisPort: 6379,
  redisPassword: undefined,
  redisUsername: undefined,
  redisTls: false,
  clusterNodes: [],
  redisKeyPrefix: 'lix',
  redisSocketConnectTimeout: 5,
  redisCommandTimeoutMs: 5000,
  redisSocketKeepalive: true,
  redisPoolSize: 50,
  sessionRedisDb: 2,
  sessionTtlSeconds: 86_400,
  hotWindowSize: 20,
  sessionMaxTokens: undefined,
  semanticRedisDb: 0,
  semanticTtlSeconds: 300,
  semanticSimilarityThreshold: 0.9,
  semanticMaxItemsPerUrl: 50,
  urlCacheRedisDb: 1,
  urlCacheTtlSeconds: 86_400,
  urlCacheBatchSize: 100,
  archiveDir: './data/conversations',
  archiveUrl: undefined,
  diskTtlDays: 14,
  archiveCodec: 'brotli',
  evictAfterMinutes: 120,
  embeddingModelId: 'default',
});

/**
 * The settings each config was explicitly given (parsed), so that {@link CacheConfig.with}
 * derives the driver again from the new settings instead of from filled-in defaults.
 */
const explicitSettings = new WeakMap<CacheConfig, Partial<CacheConfigOptions>>();

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function invalid(variable: string, value: unknown, expected: string): ConfigError {
  const shown = describeValue(value);
  return new ConfigError('INVALID_VALUE', `${variable}=${shown} is not valid: expected ${expected}.`, { variable, value });
}

function integerFrom(variable: string, raw: unknown, min: number, max: number, expected: string): number {
  let value: number;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string' && INTEGER.test(raw.trim())) value = Number(raw.trim());
  else throw invalid(variable, raw, expected);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(variable, raw, expected);
  return value;
}

function parsePort(variable: string, raw: unknown): number {
  return integerFrom(variable, raw, 1, 65_535, 'an integer port from 1 to 65535');
}

function parseClusterNodes(variable: string, raw: unknown): ClusterNode[] {
  const expected = 'a comma-separated list of host:port (e.g. "10.0.0.1:7000,10.0.0.2:7000")';
  if (Array.isArray(raw)) {
    return raw.map((node: unknown) => {
      if (typeof node === 'string') return parseClusterNode(variable, raw, node, expected);
      if (node === null || typeof node !== 'object') throw invalid(variable, raw, expected);
      const { host, port } = node as { host?: unknown; port?: unknown };
      if (typeof host !== 'string' || host.trim() === '') throw invalid(variable, raw, 'cluster nodes with a non-empty host');
      return { host, port: parsePort(variable, port) };
    });
  }
  if (typeof raw !== 'string') throw invalid(variable, raw, expected);
  if (raw.trim() === '') return [];
  return raw.split(',').map((part) => parseClusterNode(variable, raw, part.trim(), expected));
}

function parseClusterNode(variable: string, whole: unknown, node: string, expected: string): ClusterNode {
  // "[::1]:7000" for IPv6, "host:7000" otherwise.
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(node) ?? /^([^:\s]+):(\d+)$/.exec(node);
  if (!match) throw invalid(variable, whole, expected);
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) throw invalid(variable, whole, `${expected} with ports from 1 to 65535`);
  return { host: match[1]!, port };
}

/** Turns one raw setting (typed option or environment string) into its typed value, or throws. */
function parseField(kind: Kind, variable: string, raw: unknown): unknown {
  switch (kind) {
    case 'driver':
      if (raw === 'memory' || raw === 'ioredis' || raw === 'node-redis') return raw;
      throw invalid(variable, raw, 'one of "memory", "ioredis", "node-redis"');
    case 'string':
      if (typeof raw === 'string') return raw;
      throw invalid(variable, raw, 'a string');
    case 'nonEmptyString':
      if (typeof raw === 'string' && raw.trim() !== '') return raw;
      throw invalid(variable, raw, 'a non-empty string');
    case 'optionalString':
      if (raw === undefined) return undefined;
      if (typeof raw === 'string') return raw === '' ? undefined : raw;
      throw invalid(variable, raw, 'a string');
    case 'url': {
      if (raw === undefined || raw === '') return undefined;
      const expected = 'a redis:// or rediss:// URL such as "redis://localhost:6379"';
      if (typeof raw !== 'string') throw invalid(variable, raw, expected);
      let url: URL;
      try {
        url = new URL(raw);
      } catch (cause) {
        throw new ConfigError('INVALID_VALUE', `${variable}=${describeValue(raw)} is not valid: expected ${expected}.`, { variable, value: raw, cause });
      }
      if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') throw invalid(variable, raw, expected);
      if (url.port !== '') parsePort(variable, url.port);
      const path = url.pathname.replace(/^\//, '');
      if (path !== '' && !/^\d+$/.test(path)) throw invalid(variable, raw, `${expected} whose path, if any, is a database number`);
      return raw;
    }
    case 'archiveUrl': {
      if (raw === undefined || raw === '') return undefined;
      const expected = 'a postgres:// or postgresql:// URL such as "postgres://app@db.internal:5432/chat"';
      if (typeof raw !== 'string') throw invalid(variable, raw, expected);
      let url: URL;
      try {
        url = new URL(raw);
      } catch (cause) {
        throw new ConfigError('INVALID_VALUE', `${variable}=${JSON.stringify(raw)} is not valid: expected ${expected}.`, { variable, value: raw, cause });
      }
      if ((url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || url.hostname === '') throw invalid(variable, raw, expected);
      if (url.port !== '') parsePort(variable, url.port);
      return raw;
    }
    case 'port':
      return parsePort(variable, raw);
    case 'db':
      return integerFrom(variable, raw, 0, 2_147_483_647, 'a database number (an integer of 0 or more)');
    case 'positiveInt':
      return integerFrom(variable, raw, 1, Number.MAX_SAFE_INTEGER, 'a whole number of 1 or more');
    case 'optionalPositiveInt':
      if (raw === undefined || raw === null || raw === '') return undefined;
      return integerFrom(variable, raw, 1, Number.MAX_SAFE_INTEGER, 'a whole number of 1 or more (or unset for no limit)');
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw invalid(variable, raw, 'a boolean: true, false, 1 or 0');
    }
    case 'threshold': {
      const expected = 'a number from -1 to 1 (cosine similarity)';
      let value: number;
      if (typeof raw === 'number') value = raw;
      else if (typeof raw === 'string' && DECIMAL.test(raw.trim())) value = Number(raw.trim());
      else throw invalid(variable, raw, expected);
      if (!Number.isFinite(value) || value < -1 || value > 1) throw invalid(variable, raw, expected);
      return value;
    }
    case 'clusterNodes':
      if (raw === undefined) return [];
      return parseClusterNodes(variable, raw);
    case 'keyPrefix':
      // Braces would move the cluster hash tag and glob characters would break SCAN patterns.
      if (typeof raw === 'string' && raw.length > 0 && raw.length <= 128 && !/[{}*?[\]\\\s]/.test(raw)) return raw;
      throw invalid(variable, raw, 'a non-empty key prefix of at most 128 characters without "{", "}", "*", "?", "[", "]", "\\" or spaces');
    case 'windowSize':
      return integerFrom(variable, raw, 1, 1000, 'a whole number from 1 to 1000');
    case 'timeoutMs':
      return integerFrom(variable, raw, 1, 3_600_000, 'a whole number of milliseconds from 1 to 3600000');
    case 'codec':
      if (isArchiveCodec(raw)) return raw;
      throw invalid(variable, raw, `one of ${ARCHIVE_CODECS.map((codec) => JSON.stringify(codec)).join(', ')}`);
  }
}

/**
 * Every tunable of the cache in one immutable object: Redis connection, the three
 * layers, the archive and idle eviction. Built from options (`new CacheConfig({...})`)
 * or from the environment (`CacheConfig.fromEnv('MYAPP')`); every value is validated
 * and a bad one throws a {@link ConfigError} that names it.
 */
export class CacheConfig implements Readonly<CacheConfigOptions> {
  readonly driver!: DriverChoice;
  readonly redisUrl!: string | undefined;
  readonly redisHost!: string;
  readonly redisPort!: number;
  readonly redisPassword!: string | undefined;
  readonly redisUsername!: string | undefined;
  readonly redisTls!: boolean;
  readonly clusterNodes!: ClusterNode[];
  readonly redisKeyPrefix!: string;
  readonly redisSocketConnectTimeout!: number;
  readonly redisCommandTimeoutMs!: number;
  readonly redisSocketKeepalive!: boolean;
  readonly redisPoolSize!: number;
  readonly sessionRedisDb!: number;
  readonly sessionTtlSeconds!: number;
  readonly hotWindowSize!: number;
  readonly sessionMaxTokens!: number | undefined;
  readonly semanticRedisDb!: number;
  readonly semanticTtlSeconds!: number;
  readonly semanticSimilarityThreshold!: number;
  readonly semanticMaxItemsPerUrl!: number;
  readonly urlCacheRedisDb!: number;
  readonly urlCacheTtlSeconds!: number;
  readonly urlCacheBatchSize!: number;
  readonly archiveDir!: string;
  readonly archiveUrl!: string | undefined;
  readonly diskTtlDays!: number;
  readonly archiveCodec!: string;
  readonly evictAfterMinutes!: number;
  readonly embeddingModelId!: string;

  /** Validates `options` over the defaults; throws a {@link ConfigError} naming the first bad option. */
  constructor(options: Partial<CacheConfigOptions> = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new ConfigError('INVALID_VALUE', `CacheConfig takes an options object, got ${describeValue(options)}.`, { variable: 'options', value: options });
    }
    CacheConfig.#build(this, options as Record<string, unknown>, (field) => field);
    Object.freeze(this.clusterNodes);
    Object.freeze(this);
  }

  static #build(target: CacheConfig, raw: Record<string, unknown>, nameOf: (field: keyof CacheConfigOptions) => string): void {
    for (const key of Object.keys(raw)) {
      if (!(key in FIELDS)) {
        throw new ConfigError('UNKNOWN_OPTION', `Unknown CacheConfig option "${key}"; known options: ${CONFIG_FIELDS.join(', ')}.`, {
          variable: key,
          value: raw[key],
        });
      }
    }
    const values: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) {
      const given = raw[field];
      if (field === 'driver') continue;
      values[field] = given === undefined ? CONFIG_DEFAULTS[field] : parseField(FIELDS[field].kind, nameOf(field), given);
    }
    const clusterNodes = values.clusterNodes as ClusterNode[];
    const remote = values.redisUrl !== undefined || raw.redisHost !== undefined || clusterNodes.length > 0;
    const driver =
      raw.driver === undefined ? (remote ? 'ioredis' : 'memory') : (parseField('driver', nameOf('driver'), raw.driver) as DriverChoice);
    if (driver === 'memory' && clusterNodes.length > 0) {
      throw new ConfigError(
        'CONFLICTING_OPTIONS',
        `${nameOf('driver')}="memory" cannot be combined with ${nameOf('clusterNodes')}; choose "ioredis" or "node-redis" for a cluster.`,
        { variable: nameOf('driver'), value: driver },
      );
    }
    if (clusterNodes.length > 0 && values.redisUrl !== undefined) {
      throw new ConfigError(
        'CONFLICTING_OPTIONS',
        `${nameOf('redisUrl')} and ${nameOf('clusterNodes')} are both set; a cluster is reached through its seed nodes, so set only one.`,
        { variable: nameOf('clusterNodes'), value: raw.clusterNodes },
      );
    }
    Object.assign(target, values, { driver });
    const explicit: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) if (raw[field] !== undefined) explicit[field] = field === 'driver' ? driver : values[field];
    explicitSettings.set(target, explicit as Partial<CacheConfigOptions>);
  }

  /**
   * Reads `{PREFIX}_REDIS_HOST`, `{PREFIX}_REDIS_PORT`, … (the prefix upper-cased and
   * joined with `_`; an empty prefix reads `REDIS_HOST`, …). Unset variables take the
   * defaults; a malformed one throws a {@link ConfigError} naming the variable and its value.
   * Empty variables count as unset only for settings whose default is "none"
   * (password, username, URL, cluster nodes, token limit); elsewhere they are errors.
   */
  static fromEnv(prefix = '', env: Readonly<Record<string, string | undefined>> = process.env): CacheConfig {
    if (typeof prefix !== 'string') throw new ConfigError('INVALID_VALUE', 'CacheConfig.fromEnv takes a string prefix, e.g. "MYAPP".', { variable: 'prefix', value: prefix });
    if (env === null || typeof env !== 'object') throw new ConfigError('INVALID_VALUE', 'CacheConfig.fromEnv takes an environment object (default process.env).', { variable: 'env', value: env });
    const head = prefix === '' ? '' : `${prefix.toUpperCase().replace(/_+$/, '')}_`;
    const raw: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) {
      const value = env[head + FIELDS[field].env];
      if (value !== undefined) raw[field] = value;
    }
    const config = Object.create(CacheConfig.prototype) as CacheConfig;
    CacheConfig.#build(config, raw, (field) => head + FIELDS[field].env);
    Object.freeze(config.clusterNodes);
    return Object.freeze(config);
  }

  /** The environment variable that sets `field`, for a given prefix. */
  static envName(field: keyof CacheConfigOptions, prefix = ''): string {
    return (prefix === '' ? '' : `${prefix.toUpperCase().replace(/_+$/, '')}_`) + FIELDS[field].env;
  }

  /** A copy with some settings replaced (validated like the constructor). */
  with(overrides: Partial<CacheConfigOptions>): CacheConfig {
    if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
      throw new ConfigError('INVALID_VALUE', `CacheConfig.with takes an options object, got ${describeValue(overrides)}.`, { variable: 'overrides', value: overrides });
    }
    return new CacheConfig({ ...explicitSettings.get(this), ...overrides });
  }

  /** True when the runtime talks to a Redis Cluster. */
  get isCluster(): boolean {
    return this.clusterNodes.length > 0;
  }

  /** The settings as plain data, with the password and URL credentials redacted (safe to log). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) out[field] = this[field];
    if (this.redisPassword !== undefined) out.redisPassword = '***';
    if (this.redisUrl !== undefined) {
      const url = new URL(this.redisUrl);
      if (url.password) url.password = '***';
      out.redisUrl = url.toString();
    }
    if (this.archiveUrl !== undefined) {
      const url = new URL(this.archiveUrl);
      if (url.password) url.password = '***';
      out.archiveUrl = url.toString();
    }
    return out;
  }
}
