import { getPooledDriver, systemClock, type Clock, type KVDriver, type Logger, type PooledDriverHandle } from '@lix/redis-pool';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { CacheConfig, type CacheConfigOptions } from './config.js';
import { CacheCoordinator } from './coordinator.js';
import { ConfigError } from './errors.js';
import { checkFunction, checkOptionKeys, describeValue } from './options-check.js';
import type { ContextMessage, SemanticCacheLayer, SessionWindowLayer, UrlEmbeddingLayer } from './layers.js';
import { SingleFlight } from './single-flight.js';
import { composeTelemetry, type RuntimeTelemetry } from './telemetry.js';
import type { TelemetrySetting } from '@lix/telemetry';

/** The three layer slots of a runtime. */
export type LayerSlot = 'sessionWindow' | 'semanticCache' | 'urlEmbeddingCache';

/** What a layer factory receives: the runtime's shared resources. */
export interface LayerContext {
  config: CacheConfig;
  /** The driver of this layer's database (single node) or the one shared driver (cluster, memory). */
  driver: KVDriver;
  logger: Logger | undefined;
  clock: Clock;
  /** The runtime's `telemetry` option, for layers that instrument themselves (the stock semantic cache does). */
  telemetry?: TelemetrySetting | undefined;
}

/** Builds one session's session-window layer. Called by every {@link CacheRuntime.forSession}. */
export type SessionWindowFactory<M extends ContextMessage = ContextMessage> = (
  context: LayerContext & { sessionId: string; archive: unknown },
) => SessionWindowLayer<M>;
/** Builds one session's semantic cache layer. Called by every {@link CacheRuntime.forSession}. */
export type SemanticCacheFactory<R = unknown> = (context: LayerContext & { sessionId: string }) => SemanticCacheLayer<R>;
/** Builds the runtime's one URL embedding cache (global: shared by every session). Called once. */
export type UrlEmbeddingFactory = (context: LayerContext) => UrlEmbeddingLayer;

/** The process-wide resources a runtime owns besides its drivers: the archive and the idle evictor. */
export interface SharedResources {
  /** The one archive instance every session window writes through (handed to the session-window factory). */
  archive?: { close?(): Promise<void> } | undefined;
  /** The one background job (idle eviction) of the process; started by the runtime, stopped by `close()`. */
  evictor?: { start(): void; stop(): Promise<void> | void; runOnce?(): Promise<EvictionResult> } | undefined;
}

/** What one idle-eviction pass did. */
export interface EvictionResult {
  /** Sessions moved out of Redis (their history stays in the archive). */
  evicted: number;
  /** Sessions looked at. */
  scanned: number;
}

/** Options of {@link CacheRuntime}. */
export interface CacheRuntimeOptions<M extends ContextMessage = ContextMessage, R = unknown> {
  /** A config, or options for one (default: `new CacheConfig()`, the in-memory driver). */
  config?: CacheConfig | Partial<CacheConfigOptions>;
  logger?: Logger;
  /**
   * OpenTelemetry for every layer (`@lix/telemetry`): drivers, archive, session windows,
   * semantic and URL caches get spans and metrics. Default: the global API when
   * `@opentelemetry/api` is installed (a no-op until an SDK is registered); `false`: none.
   */
  telemetry?: TelemetrySetting;
  clock?: Clock;
  /**
   * Drivers to use instead of opening them from the config, per layer slot (the runtime
   * does not close injected drivers).
   */
  drivers?: Partial<Record<LayerSlot, KVDriver>>;
  /**
   * Layer factories: replace a layer with your own, or pass `false` to leave it out (its
   * driver is then never opened). Missing entries use {@link CacheRuntimeOptions.defaults}.
   */
  layers?: {
    sessionWindow?: SessionWindowFactory<M> | false;
    semanticCache?: SemanticCacheFactory<R> | false;
    urlEmbeddingCache?: UrlEmbeddingFactory | false;
  };
  /**
   * The standard layers and shared resources (archive, idle evictor), supplied by
   * `createCacheRuntime` from `@lix/session-window`, `@lix/semantic-cache` and
   * `@lix/archive`. A runtime built without them has only the layers given in `layers`.
   */
  defaults?: {
    layers?: {
      sessionWindow?: SessionWindowFactory<M>;
      semanticCache?: SemanticCacheFactory<R>;
      urlEmbeddingCache?: UrlEmbeddingFactory;
    };
    /** Creates the shared archive and evictor once the drivers are open. */
    shared?: (context: {
      config: CacheConfig;
      sessionDriver: KVDriver | undefined;
      logger: Logger | undefined;
      clock: Clock;
      telemetry?: TelemetrySetting | undefined;
    }) => SharedResources;
  };
}

/** What {@link CacheRuntime.getStats} returns. */
export interface RuntimeStats {
  /** Driver connections this runtime opened (pooled handles, or the one memory driver). */
  driversOpened: number;
  /** Distinct drivers behind them (the pool shares equal connection settings). */
  distinctDrivers: number;
  coordinatorsCreated: number;
  evictorRunning: boolean;
  driver: string;
  cluster: boolean;
}

/**
 * The per-process owner of everything expensive: pooled drivers (one per database on a
 * single node; one shared driver with key prefixes on a cluster or in memory), the one
 * archive, the one idle evictor and the one URL embedding cache. Create it once at
 * startup; {@link forSession} then hands out cheap {@link CacheCoordinator}s that share
 * them, so ten thousand sessions do not mean ten thousand connections or timers.
 * {@link close} releases everything.
 */
export class CacheRuntime<M extends ContextMessage = ContextMessage, R = unknown> {
  readonly config: CacheConfig;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  readonly #ownedDrivers: KVDriver[] = [];
  readonly #drivers: Partial<Record<LayerSlot, KVDriver>> = {};
  readonly #sessionFactory: SessionWindowFactory<M> | undefined;
  readonly #semanticFactory: SemanticCacheFactory<R> | undefined;
  readonly #urlEmbeddingCache: UrlEmbeddingLayer | undefined;
  readonly #shared: SharedResources;
  readonly #flights = { semantic: new SingleFlight<unknown>(), urlEmbedding: new SingleFlight<Float32Array>() };
  readonly #state = { closed: false };
  #coordinatorsCreated = 0;
  #closing: Promise<void> | undefined;
  #telemetry: RuntimeTelemetry | undefined;

  constructor(options: CacheRuntimeOptions<M, R> = {}) {
    checkRuntimeOptions(options, RUNTIME_OPTION_KEYS, 'CacheRuntime');
    this.config = options.config instanceof CacheConfig ? options.config : new CacheConfig(options.config ?? {});
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    const chosen = options.layers ?? {};
    const defaults = options.defaults?.layers ?? {};
    const pick = <F>(given: F | false | undefined, fallback: F | undefined): F | undefined => (given === false ? undefined : (given ?? fallback));
    this.#sessionFactory = pick(chosen.sessionWindow, defaults.sessionWindow);
    this.#semanticFactory = pick(chosen.semanticCache, defaults.semanticCache);
    const urlFactory = pick(chosen.urlEmbeddingCache, defaults.urlEmbeddingCache);

    try {
      const needed: LayerSlot[] = [];
      if (this.#sessionFactory) needed.push('sessionWindow');
      if (this.#semanticFactory) needed.push('semanticCache');
      if (urlFactory) needed.push('urlEmbeddingCache');
      this.#openDrivers(needed, options.drivers ?? {});
      this.#telemetry = composeTelemetry(options.telemetry, this.#drivers);
      this.#shared =
        options.defaults?.shared?.({
          config: this.config,
          sessionDriver: this.#drivers.sessionWindow,
          logger: this.#logger,
          clock: this.#clock,
          telemetry: options.telemetry,
        }) ?? {};
      const urlCache = urlFactory?.(this.#context('urlEmbeddingCache'));
      this.#urlEmbeddingCache = urlCache === undefined ? undefined : this.#telemetry.urlEmbeddingCache(urlCache);
      this.#shared.evictor?.start();
    } catch (error) {
      void this.#releaseDrivers();
      throw error;
    }
  }

  /**
   * Opens the drivers the enabled layers need. On a single node each layer keeps the
   * original's own database (FLUSHDB one layer, DBSIZE per layer); layers configured with
   * the same database share a driver. A cluster only has db 0 and memory has one keyspace,
   * so there all layers share one driver and stay apart by their key prefixes.
   */
  #openDrivers(needed: LayerSlot[], injected: Partial<Record<LayerSlot, KVDriver>>): void {
    const config = this.config;
    const dbOf: Record<LayerSlot, number> = {
      sessionWindow: config.sessionRedisDb,
      semanticCache: config.semanticRedisDb,
      urlEmbeddingCache: config.urlCacheRedisDb,
    };
    let shared: KVDriver | undefined;
    const byDb = new Map<number, KVDriver>();
    for (const slot of needed) {
      const given = injected[slot];
      if (given) {
        this.#drivers[slot] = given;
        continue;
      }
      if (config.driver === 'memory') {
        shared ??= this.#own(createMemoryDriver({ clock: this.#clock, ...(this.#logger ? { logger: this.#logger } : {}) }));
        this.#drivers[slot] = shared;
      } else if (config.isCluster) {
        shared ??= this.#own(this.#pooled(undefined));
        this.#drivers[slot] = shared;
      } else {
        const db = dbOf[slot];
        let driver = byDb.get(db);
        if (!driver) {
          driver = this.#own(this.#pooled(db));
          byDb.set(db, driver);
        }
        this.#drivers[slot] = driver;
      }
    }
  }

  #pooled(db: number | undefined): PooledDriverHandle {
    const config = this.config;
    const driver = config.driver === 'node-redis' ? 'node-redis' : 'ioredis';
    return getPooledDriver({
      driver,
      ...(config.isCluster
        ? { cluster: { nodes: config.clusterNodes.map((node) => ({ host: node.host, port: node.port })) } }
        : config.redisUrl !== undefined
          ? { url: config.redisUrl }
          : { host: config.redisHost, port: config.redisPort }),
      ...(db === undefined ? {} : { db }),
      ...(config.redisUsername === undefined ? {} : { username: config.redisUsername }),
      ...(config.redisPassword === undefined ? {} : { password: config.redisPassword }),
      ...(config.redisTls ? { tls: true } : {}),
      connectTimeoutMs: config.redisSocketConnectTimeout * 1000,
      ...(config.redisSocketKeepalive ? {} : { keepAliveMs: false as const }),
      commandTimeoutMs: config.redisCommandTimeoutMs,
      ...(this.#logger ? { logger: this.#logger } : {}),
    });
  }

  #own(driver: KVDriver): KVDriver {
    this.#ownedDrivers.push(driver);
    return driver;
  }

  #context(slot: LayerSlot): LayerContext {
    const driver = this.#drivers[slot];
    if (!driver) throw new ConfigError('LAYER_MISSING', `No driver was opened for the ${slot} layer.`, { variable: slot });
    return { config: this.config, driver, logger: this.#logger, clock: this.#clock, telemetry: this.#telemetry?.setting };
  }

  /** The driver a layer slot uses, or `undefined` when that layer is left out. */
  driverFor(slot: LayerSlot): KVDriver | undefined {
    return this.#drivers[slot];
  }

  /** The shared archive, when the runtime has one. */
  get archive(): unknown {
    return this.#shared.archive;
  }

  /** The shared idle evictor, when the runtime has one. */
  get evictor(): SharedResources['evictor'] {
    return this.#shared.evictor;
  }

  /**
   * Runs one idle-eviction pass now (the evictor also runs on its own timer), or
   * resolves `null` when the runtime has no evictor.
   */
  async runIdleEviction(): Promise<EvictionResult | null> {
    if (this.#state.closed) throw new ConfigError('CLOSED', 'CacheRuntime is closed; runIdleEviction() cannot run.');
    const evictor = this.#shared.evictor;
    if (evictor?.runOnce === undefined) return null;
    return evictor.runOnce();
  }

  /** The one URL embedding cache every coordinator shares, when enabled. */
  get urlEmbeddingCache(): UrlEmbeddingLayer | undefined {
    return this.#urlEmbeddingCache;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /**
   * A coordinator for one session. Cheap: it builds the per-session layer objects
   * (references to the shared drivers and archive) and opens nothing; it needs no
   * `close()`, and closing it leaves the shared resources open.
   */
  forSession(sessionId: string): CacheCoordinator<M, R> {
    if (this.#state.closed) throw new ConfigError('CLOSED', 'CacheRuntime is closed; create a new one to serve sessions.');
    const window = this.#sessionFactory?.({ ...this.#context('sessionWindow'), sessionId, archive: this.#shared.archive });
    const sessionWindow = window === undefined ? undefined : this.#telemetry!.sessionWindow(window);
    const semanticCache = this.#semanticFactory?.({ ...this.#context('semanticCache'), sessionId });
    this.#coordinatorsCreated++;
    return new CacheCoordinator<M, R>({
      sessionId,
      sessionWindow,
      semanticCache,
      urlEmbeddingCache: this.#urlEmbeddingCache,
      closeLayers: false,
      flights: this.#flights,
      owner: this.#state,
    });
  }

  /** Resource counts: how many drivers this runtime opened, coordinators handed out, whether the evictor runs. */
  getStats(): RuntimeStats {
    return {
      driversOpened: this.#ownedDrivers.length,
      distinctDrivers: new Set(this.#ownedDrivers.map((driver) => ('poolKey' in driver ? (driver as PooledDriverHandle).poolKey : driver))).size,
      coordinatorsCreated: this.#coordinatorsCreated,
      evictorRunning: this.#shared.evictor !== undefined && !this.#state.closed,
      driver: this.config.driver,
      cluster: this.config.isCluster,
    };
  }

  async #releaseDrivers(): Promise<void> {
    const drivers = this.#ownedDrivers.splice(0);
    const results = await Promise.allSettled(drivers.map((driver) => driver.close()));
    for (const result of results) {
      if (result.status === 'rejected') this.#logger?.warn?.('closing a driver failed', { error: result.reason });
    }
  }

  /**
   * Connects now instead of on the first call: every driver the runtime uses connects and
   * answers a PING, and the archive answers one metadata lookup (a primary-key read on
   * PostgreSQL, a stat in the folder). Resolves when all did; rejects with the first
   * failure (`KVError` `CONNECTION_LOST`, `AUTH_FAILED`, …, or `ArchiveError`), so a service
   * can fail its readiness probe at startup rather than on a user's request.
   */
  async connect(): Promise<void> {
    if (this.#state.closed) throw new ConfigError('CLOSED', 'CacheRuntime is closed; connect() cannot run.');
    const drivers = [...new Set(Object.values(this.#drivers))];
    const archive = this.#shared.archive as { getMetadata?(sessionId: string): Promise<unknown> } | undefined;
    await Promise.all([
      ...drivers.map(async (driver) => {
        await driver.connect();
        await driver.ping();
      }),
      archive?.getMetadata?.('lix:connect-probe'),
    ]);
  }

  /** `close()`, for `await using`: the runtime is closed when the block that holds it ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Stops the idle evictor, closes the URL embedding cache and the archive, and releases
   * the drivers it opened (injected drivers stay open). Coordinators from this runtime
   * reject with `CLOSED` afterwards. Safe to call twice. `await using runtime = …` calls it.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state.closed = true;
      const errors: unknown[] = [];
      const attempt = async (step: () => Promise<unknown> | unknown) => {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      };
      await attempt(() => this.#shared.evictor?.stop());
      await attempt(() => this.#urlEmbeddingCache?.close?.());
      await attempt(() => this.#shared.archive?.close?.());
      await this.#releaseDrivers();
      // Everything was attempted; report the first failure as it was raised.
      if (errors.length > 0) throw errors[0];
    })();
    return this.#closing;
  }
}

/** Every key {@link CacheRuntimeOptions} knows. */
export const RUNTIME_OPTION_KEYS: readonly string[] = ['config', 'logger', 'clock', 'drivers', 'layers', 'defaults', 'telemetry'];

const SLOTS: readonly string[] = ['sessionWindow', 'semanticCache', 'urlEmbeddingCache'];

/**
 * Checks the options of a runtime before anything is opened: unknown keys (with a hint
 * when the key is a CacheConfig setting), and the shape of each known one.
 */
export function checkRuntimeOptions(options: unknown, known: readonly string[], owner: string): void {
  checkOptionKeys(options, known, owner, true);
  if (options === undefined) return;
  const given = options as Record<string, unknown>;
  const { config, logger, clock, drivers, layers } = given;
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw new ConfigError('INVALID_VALUE', `config must be a CacheConfig or an options object for one, got ${describeValue(config)}.`, {
      variable: 'config',
      value: config,
    });
  }
  if (logger !== undefined && (logger === null || typeof logger !== 'object')) {
    throw new ConfigError('INVALID_VALUE', 'logger must be an object with optional debug/info/warn/error methods.', { variable: 'logger', value: logger });
  }
  if (clock !== undefined && (clock === null || typeof clock !== 'object' || typeof (clock as { now?: unknown }).now !== 'function')) {
    throw new ConfigError('INVALID_VALUE', 'clock must be an object with a now() method.', { variable: 'clock', value: clock });
  }
  if (drivers !== undefined) {
    checkOptionKeys(drivers, SLOTS, `${owner} drivers`);
    for (const [slot, driver] of Object.entries(drivers as Record<string, unknown>)) {
      if (driver === undefined) continue;
      if (driver === null || typeof driver !== 'object' || typeof (driver as { get?: unknown }).get !== 'function') {
        throw new ConfigError('INVALID_VALUE', `drivers.${slot} must be a KVDriver from @lix/redis-pool.`, { variable: `drivers.${slot}` });
      }
    }
  }
  if (layers !== undefined) {
    checkOptionKeys(layers, SLOTS, `${owner} layers`);
    for (const [slot, factory] of Object.entries(layers as Record<string, unknown>)) {
      if (factory !== undefined && factory !== false) checkFunction(factory, `layers.${slot}`);
    }
  }
}
