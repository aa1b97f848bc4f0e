import { CONFIG_TABLE, REMOVED_CONFIG_FIELDS, type ConfigField } from './config-fields.js';
import { parseDriver, type ClusterNode } from './config-parsers.js';
import { describeValue } from './describe.js';
import { ConfigError } from './errors.js';

export { ARCHIVE_CODECS, isArchiveCodec, type ClusterNode, type DriverChoice } from './config-parsers.js';
export { CONFIG_TABLE, REMOVED_CONFIG_FIELDS, type ConfigField } from './config-fields.js';

type Table = typeof CONFIG_TABLE;

/**
 * Every setting of {@link CacheConfig}, typed from {@link CONFIG_TABLE} (the one place a
 * setting is defined; its `doc` says what it does). `driver` defaults to `'ioredis'` when
 * a Redis URL, host or cluster nodes are configured, otherwise `'memory'`.
 */
export type CacheConfigOptions = { -readonly [K in keyof Table]: Table[K] extends ConfigField<infer T> ? T : never };

/** Names of every {@link CacheConfig} field, in documentation order. */
export const CONFIG_FIELDS: readonly (keyof CacheConfigOptions)[] = Object.freeze(Object.keys(CONFIG_TABLE) as (keyof CacheConfigOptions)[]);

/** The defaults of the original package (and of the new settings). `driver` is derived, see {@link CacheConfigOptions}. */
export const CONFIG_DEFAULTS: Readonly<Omit<CacheConfigOptions, 'driver'>> = Object.freeze(
  Object.fromEntries(CONFIG_FIELDS.filter((name) => name !== 'driver').map((name) => [name, CONFIG_TABLE[name].default])) as Omit<CacheConfigOptions, 'driver'>,
);

function fieldOf(name: keyof CacheConfigOptions): ConfigField<unknown> {
  return CONFIG_TABLE[name] as ConfigField<unknown>;
}

/**
 * The settings each config was explicitly given (parsed), so that {@link CacheConfig.with}
 * derives the driver again from the new settings instead of from filled-in defaults.
 */
const explicitSettings = new WeakMap<CacheConfig, Partial<CacheConfigOptions>>();

// The settings are declared once, in the table, and merged into the class's type here.
export interface CacheConfig extends Readonly<CacheConfigOptions> {}

/**
 * Every tunable of the cache in one immutable object: Redis connection, the three
 * layers, the archive and idle eviction. Built from options (`new CacheConfig({...})`)
 * or from the environment (`CacheConfig.fromEnv('MYAPP')`); every value is validated
 * and a bad one throws a {@link ConfigError} that names it.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above only names the table's fields, which the constructor assigns.
export class CacheConfig {
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
      if (!Object.hasOwn(CONFIG_TABLE, key)) {
        const removed = REMOVED_CONFIG_FIELDS[key];
        throw new ConfigError('UNKNOWN_OPTION', removed ?? `Unknown CacheConfig option "${key}"; known options: ${CONFIG_FIELDS.join(', ')}.`, {
          variable: key,
          value: raw[key],
        });
      }
    }
    const values: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) {
      const given = raw[field];
      if (field === 'driver') continue;
      values[field] = given === undefined ? fieldOf(field).default : fieldOf(field).parse(given, nameOf(field));
    }
    const clusterNodes = values.clusterNodes as ClusterNode[];
    const remote = values.redisUrl !== undefined || raw.redisHost !== undefined || clusterNodes.length > 0;
    const driver = raw.driver === undefined ? (remote ? 'ioredis' : 'memory') : parseDriver(raw.driver, nameOf('driver'));
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
    if (typeof prefix !== 'string')
      throw new ConfigError('INVALID_VALUE', 'CacheConfig.fromEnv takes a string prefix, e.g. "MYAPP".', { variable: 'prefix', value: prefix });
    if (env === null || typeof env !== 'object')
      throw new ConfigError('INVALID_VALUE', 'CacheConfig.fromEnv takes an environment object (default process.env).', { variable: 'env', value: env });
    const head = prefix === '' ? '' : `${prefix.toUpperCase().replace(/_+$/, '')}_`;
    const raw: Record<string, unknown> = {};
    for (const field of CONFIG_FIELDS) {
      const value = env[head + fieldOf(field).env];
      if (value !== undefined) raw[field] = value;
    }
    const config = Object.create(CacheConfig.prototype) as CacheConfig;
    CacheConfig.#build(config, raw, (field) => head + fieldOf(field).env);
    Object.freeze(config.clusterNodes);
    return Object.freeze(config);
  }

  /** The environment variable that sets `field`, for a given prefix. */
  static envName(field: keyof CacheConfigOptions, prefix = ''): string {
    return (prefix === '' ? '' : `${prefix.toUpperCase().replace(/_+$/, '')}_`) + fieldOf(field).env;
  }

  /** A copy with some settings replaced (validated like the constructor). */
  with(overrides: Partial<CacheConfigOptions>): CacheConfig {
    if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
      throw new ConfigError('INVALID_VALUE', `CacheConfig.with takes an options object, got ${describeValue(overrides)}.`, {
        variable: 'overrides',
        value: overrides,
      });
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
