import { ConversationArchive, type ArchiveCodec, type ArchiveStore } from '@lix/archive';
import type { Clock, Logger } from '@lix/redis-pool';
import { SemanticCache, UrlEmbeddingCache } from '@lix/semantic-cache';
import { HybridConversationCache, IdleEvictor, type ConversationMessage } from '@lix/session-window';
import { instrumentArchiveStore, type TelemetrySetting } from '@lix/telemetry';
import { ARCHIVE_CODECS, CacheConfig, isArchiveCodec, type CacheConfigOptions } from './config.js';
import { DeferredArchiveStore } from './deferred-archive.js';
import { ConfigError } from './errors.js';
import type { SemanticCacheLayer, SessionWindowLayer, UrlEmbeddingLayer } from './layers.js';
import {
  checkRuntimeOptions,
  RUNTIME_OPTION_KEYS,
  CacheRuntime,
  type CacheRuntimeOptions,
  type SemanticCacheFactory,
  type SessionWindowFactory,
  type UrlEmbeddingFactory,
} from './runtime.js';

/** A response the stock semantic cache stores: any msgpack-serialisable value. */
export type SemanticResponse = unknown;

/** Options of {@link createCacheRuntime}: those of {@link CacheRuntime} without `defaults`. */
export interface CreateCacheRuntimeOptions<R = SemanticResponse> extends Omit<CacheRuntimeOptions<ConversationMessage, R>, 'defaults' | 'config'> {
  /** A config, options for one, or omitted for `CacheConfig.fromEnv(envPrefix)`. */
  config?: CacheConfig | Partial<CacheConfigOptions>;
  /** Prefix of the environment variables read when `config` is omitted (default `''`). */
  envPrefix?: string;
  /** Time between idle-eviction passes (default: the evictor's, 60 s). */
  evictionIntervalMs?: number;
  /** `false` to leave the idle evictor out (e.g. when another process runs it). Default `true`. */
  idleEviction?: boolean;
}

/** The stock session window: `HybridConversationCache` configured from the runtime's config. */
export const standardSessionWindow: SessionWindowFactory<ConversationMessage> = ({ config, driver, sessionId, archive, logger, clock }) =>
  new HybridConversationCache({
    sessionId,
    driver,
    archive: archive as ConversationArchive,
    keyPrefix: config.redisKeyPrefix,
    hotWindowSize: config.hotWindowSize,
    sessionTtlMs: config.sessionTtlSeconds * 1000,
    sessionMaxTokens: config.sessionMaxTokens ?? null,
    ...(logger ? { logger } : {}),
    clock,
  }) as SessionWindowLayer<ConversationMessage>;

/** The stock semantic cache: `SemanticCache` configured from the runtime's config. */
export function standardSemanticCache<R = SemanticResponse>(): SemanticCacheFactory<R> {
  return ({ config, driver, sessionId, logger, clock, telemetry }) =>
    new SemanticCache({
      driver,
      sessionId,
      keyPrefix: config.redisKeyPrefix,
      ttlMs: config.semanticTtlSeconds * 1000,
      similarityThreshold: config.semanticSimilarityThreshold,
      maxItemsPerUrl: config.semanticMaxItemsPerUrl,
      backendTimeoutMs: config.redisCommandTimeoutMs,
      ...(logger ? { logger } : {}),
      ...(telemetry === undefined ? {} : { telemetry }),
      clock,
    }) as unknown as SemanticCacheLayer<R>;
}

/** The stock URL embedding cache: one `UrlEmbeddingCache` for the whole runtime. */
export const standardUrlEmbeddingCache: UrlEmbeddingFactory = ({ config, driver, logger }) =>
  new UrlEmbeddingCache({
    driver,
    modelId: config.embeddingModelId,
    keyPrefix: config.redisKeyPrefix,
    ttlMs: config.urlCacheTtlSeconds * 1000,
    batchSize: config.urlCacheBatchSize,
    backendTimeoutMs: config.redisCommandTimeoutMs,
    ...(logger ? { logger } : {}),
  }) as unknown as UrlEmbeddingLayer;

/** Narrows the config's codec to the archive's type; CacheConfig already rejected anything else. */
function archiveCodecOf(value: string): ArchiveCodec {
  if (isArchiveCodec(value)) return value;
  throw new ConfigError('INVALID_VALUE', `archiveCodec=${JSON.stringify(value)} is not valid: expected one of ${ARCHIVE_CODECS.join(', ')}.`, {
    variable: 'archiveCodec',
    value,
  });
}

/**
 * The archive the config asks for: PostgreSQL when `archiveUrl` is set (imported on first
 * use, so a file-only install never loads `pg`), else the folder `archiveDir`.
 */
export function createArchiveStore(config: CacheConfig, logger?: Logger): ArchiveStore {
  const common = { ttlDays: config.diskTtlDays, codec: archiveCodecOf(config.archiveCodec), ...(logger ? { logger } : {}) };
  const url = config.archiveUrl;
  if (url !== undefined) {
    return new DeferredArchiveStore(async () => {
      const { PostgresArchiveStore } = await import('@lix/archive/postgres');
      return new PostgresArchiveStore({ connectionString: url, ...common });
    });
  }
  return new ConversationArchive({ dir: config.archiveDir, ...common });
}

/**
 * Creates or upgrades the archive's tables when `archiveUrl` is set (idempotent, safe
 * from several hosts at once); a folder archive needs nothing. Call it at deploy time or
 * startup, before the first session writes.
 */
export async function migrateArchive(config: CacheConfig): Promise<void> {
  if (config.archiveUrl === undefined) return;
  const store = createArchiveStore(config) as DeferredArchiveStore;
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
}

function sharedResources(options: { idleEviction: boolean; evictionIntervalMs: number | undefined }) {
  return ({
    config,
    sessionDriver,
    logger,
    clock,
    telemetry,
  }: {
    config: CacheConfig;
    sessionDriver: unknown;
    logger: Logger | undefined;
    clock: Clock;
    telemetry?: TelemetrySetting | undefined;
  }) => {
    // Only session windows write to the archive: without one there is nothing to open.
    if (sessionDriver === undefined) return {};
    // Windows read the archive only to rebuild, so its loadRecent/loadAfter calls count window rebuilds.
    const archive = instrumentArchiveStore(createArchiveStore(config, logger), { telemetry, countWindowRebuilds: true });
    if (!options.idleEviction) return { archive };
    const evictor = new IdleEvictor({
      driver: sessionDriver as ConstructorParameters<typeof IdleEvictor>[0]['driver'],
      archive,
      keyPrefix: config.redisKeyPrefix,
      evictAfterMs: config.evictAfterMinutes * 60_000,
      ...(options.evictionIntervalMs === undefined ? {} : { intervalMs: options.evictionIntervalMs }),
      ...(logger ? { logger } : {}),
      clock,
    });
    return { archive, evictor };
  };
}

/**
 * The usual way to start: a {@link CacheRuntime} with the stock layers (session window
 * over one shared `ConversationArchive`, semantic cache, URL embedding cache) and one
 * `IdleEvictor`, configured from `config` or from the environment. Any layer can be
 * replaced by a factory of your own or left out with `false` in `layers`.
 *
 * @example
 * const runtime = createCacheRuntime({ envPrefix: 'MYAPP' });
 * const cache = runtime.forSession('user-abc');
 * await cache.addMessageToContext('user', "What's the weather in Tokyo?");
 */
export function createCacheRuntime<R = SemanticResponse>(options: CreateCacheRuntimeOptions<R> = {}): CacheRuntime<ConversationMessage, R> {
  checkRuntimeOptions(options, CREATE_RUNTIME_OPTION_KEYS, 'createCacheRuntime');
  const { envPrefix, evictionIntervalMs, idleEviction, config, ...rest } = options;
  if (envPrefix !== undefined && typeof envPrefix !== 'string') {
    throw new ConfigError('INVALID_VALUE', 'envPrefix must be a string, e.g. "MYAPP".', { variable: 'envPrefix', value: envPrefix });
  }
  if (evictionIntervalMs !== undefined && (typeof evictionIntervalMs !== 'number' || !Number.isSafeInteger(evictionIntervalMs) || evictionIntervalMs < 1)) {
    throw new ConfigError('INVALID_VALUE', 'evictionIntervalMs must be a whole number of milliseconds of 1 or more.', {
      variable: 'evictionIntervalMs',
      value: evictionIntervalMs,
    });
  }
  if (idleEviction !== undefined && typeof idleEviction !== 'boolean') {
    throw new ConfigError('INVALID_VALUE', 'idleEviction must be a boolean.', { variable: 'idleEviction', value: idleEviction });
  }
  return new CacheRuntime<ConversationMessage, R>({
    ...rest,
    config: config ?? CacheConfig.fromEnv(envPrefix ?? ''),
    defaults: {
      layers: {
        sessionWindow: standardSessionWindow,
        semanticCache: standardSemanticCache<R>(),
        urlEmbeddingCache: standardUrlEmbeddingCache,
      },
      shared: sharedResources({ idleEviction: idleEviction ?? true, evictionIntervalMs }),
    },
  });
}

/** Every key {@link CreateCacheRuntimeOptions} knows (`defaults` is supplied by createCacheRuntime itself). */
const CREATE_RUNTIME_OPTION_KEYS: readonly string[] = [
  ...RUNTIME_OPTION_KEYS.filter((key) => key !== 'defaults'),
  'envPrefix',
  'evictionIntervalMs',
  'idleEviction',
];
