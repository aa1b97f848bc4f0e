import { ConfigError } from './errors.js';
import type { ContextMessage, MessageMetadata, SemanticCacheLayer, SessionWindowLayer, UrlEmbeddingLayer } from './layers.js';
import { checkFunction, checkOptionKeys, describeValue } from './options-check.js';
import { SingleFlight, getOrCompute, type FlightContext, type FlightOptions } from './single-flight.js';

/** Lookups and hits counted by one coordinator for one cache layer. */
export interface LookupStats {
  hits: number;
  misses: number;
  /** `hits / (hits + misses)`, or 0 before the first lookup. */
  hitRate: number;
  /** Computations run by the `getOrCompute…` helpers (one per single-flight group). */
  computations: number;
}

/** What {@link CacheCoordinator.getStats} returns: each present layer's own stats plus this coordinator's hit rates. */
export interface CoordinatorStats {
  sessionId: string;
  /**
   * Backend failures the cache layers absorbed (each a miss or a skipped write), summed
   * by `KVError` code over the layers that report `backendErrors`; `{}` when none did.
   */
  backendErrors: Record<string, number>;
  /** The session window's stats, or `null` when the coordinator has none. */
  sessionWindow: object | null;
  semanticCache: { layer: object; lookups: LookupStats } | null;
  urlEmbeddingCache: { layer: object; lookups: LookupStats } | null;
}

/** Options of {@link CacheCoordinator}: any layer may be left out. */
export interface CacheCoordinatorOptions<M extends ContextMessage = ContextMessage, R = unknown> {
  sessionId: string;
  sessionWindow?: SessionWindowLayer<M> | undefined;
  semanticCache?: SemanticCacheLayer<R> | undefined;
  urlEmbeddingCache?: UrlEmbeddingLayer | undefined;
  /**
   * Whether {@link CacheCoordinator.close} calls the layers' own `close()`. Default
   * `true` for layers you pass; a runtime passes `false` because it owns shared layers.
   */
  closeLayers?: boolean;
  /**
   * Single-flight groups for the `getOrCompute…` helpers. Pass shared ones so that
   * coordinators of one process compute a missed URL embedding once between them
   * (a {@link CacheRuntime} does); by default each coordinator has its own.
   */
  flights?: { semantic?: SingleFlight<unknown>; urlEmbedding?: SingleFlight<Float32Array> };
  /**
   * Called once when the coordinator is closed (after the layers it owns); a runtime
   * uses it to forget the coordinator.
   */
  onClose?: () => void;
  /** The coordinator counts as closed once `owner.closed` is true (a runtime passes itself). */
  owner?: { readonly closed: boolean };
}

type LayerName = 'sessionWindow' | 'semanticCache' | 'urlEmbeddingCache';

function newCounter(): { hits: number; misses: number; computations: number } {
  return { hits: 0, misses: 0, computations: 0 };
}

function lookupStats(counter: { hits: number; misses: number; computations: number }): LookupStats {
  const total = counter.hits + counter.misses;
  return { ...counter, hitRate: total === 0 ? 0 : counter.hits / total };
}

function embeddingKey(embedding: Float32Array): string {
  // Exact bytes: single-flight groups identical queries only, which is what it can promise.
  return Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength).toString('base64');
}

/**
 * One session's view of the cache: session memory, the semantic response cache and
 * the URL embedding cache behind the original `CacheCoordinator`'s surface.
 *
 * Built from layer instances, any of which may be omitted ("session memory only",
 * "semantic cache only", or a user's own layer). Calling a method whose layer is
 * missing rejects with `ConfigError` code `LAYER_MISSING`, except
 * {@link clearSessionCache}, {@link getStats} and {@link close}, which cover the
 * layers that are present. Creating one is cheap: it holds references only; a
 * {@link CacheRuntime} hands out coordinators that share its pooled drivers,
 * archive, idle evictor and URL embedding cache.
 */
export class CacheCoordinator<M extends ContextMessage = ContextMessage, R = unknown> {
  readonly sessionId: string;
  readonly sessionWindow: SessionWindowLayer<M> | undefined;
  readonly semanticCache: SemanticCacheLayer<R> | undefined;
  readonly urlEmbeddingCache: UrlEmbeddingLayer | undefined;
  readonly #closeLayers: boolean;
  readonly #semanticFlight: SingleFlight<unknown>;
  readonly #urlFlight: SingleFlight<Float32Array>;
  readonly #onClose: (() => void) | undefined;
  readonly #owner: { readonly closed: boolean } | undefined;
  readonly #semanticCounter = newCounter();
  readonly #urlCounter = newCounter();
  #closed = false;

  constructor(options: CacheCoordinatorOptions<M, R>) {
    if (options === null || typeof options !== 'object') {
      throw new ConfigError('INVALID_VALUE', 'CacheCoordinator takes an options object with at least a sessionId.', { variable: 'options', value: options });
    }
    checkOptionKeys(options, COORDINATOR_OPTION_KEYS, 'CacheCoordinator');
    checkLayer(options.sessionWindow, 'sessionWindow', ['addMessage', 'getContext', 'getFormattedContext', 'clear', 'getStats']);
    checkLayer(options.semanticCache, 'semanticCache', ['get', 'set', 'clearSession', 'getStats']);
    checkLayer(options.urlEmbeddingCache, 'urlEmbeddingCache', ['get', 'set', 'batchSet', 'getStats']);
    if (options.closeLayers !== undefined && typeof options.closeLayers !== 'boolean') {
      throw new ConfigError('INVALID_VALUE', `closeLayers must be a boolean, got ${describeValue(options.closeLayers)}.`, {
        variable: 'closeLayers',
        value: options.closeLayers,
      });
    }
    if (options.onClose !== undefined) checkFunction(options.onClose, 'onClose');
    if (options.flights !== undefined && (options.flights === null || typeof options.flights !== 'object')) {
      throw new ConfigError('INVALID_VALUE', 'flights must be { semantic?, urlEmbedding? } of SingleFlight groups.', {
        variable: 'flights',
        value: options.flights,
      });
    }
    if (typeof options.sessionId !== 'string' || options.sessionId === '') {
      throw new ConfigError('INVALID_VALUE', `sessionId must be a non-empty string, got ${describeValue(options.sessionId)}.`, {
        variable: 'sessionId',
        value: options.sessionId,
      });
    }
    this.sessionId = options.sessionId;
    this.sessionWindow = options.sessionWindow;
    this.semanticCache = options.semanticCache;
    this.urlEmbeddingCache = options.urlEmbeddingCache;
    this.#closeLayers = options.closeLayers ?? true;
    this.#semanticFlight = options.flights?.semantic ?? new SingleFlight<unknown>();
    this.#urlFlight = options.flights?.urlEmbedding ?? new SingleFlight<Float32Array>();
    this.#onClose = options.onClose;
    this.#owner = options.owner;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed || this.#owner?.closed === true;
  }

  #require<L>(layer: L | undefined, name: LayerName, method: string): L {
    if (this.closed) throw new ConfigError('CLOSED', `CacheCoordinator for session "${this.sessionId}" is closed; ${method}() cannot run.`);
    if (layer === undefined) {
      throw new ConfigError(
        'LAYER_MISSING',
        `${method}() needs the ${name} layer, but this coordinator was built without one; pass a ${name} when creating it.`,
        { variable: name },
      );
    }
    return layer;
  }

  /** Adds a message to the session window (and through it, to the archive). */
  async addMessageToContext(role: string, content: string, metadata?: MessageMetadata, embedding?: Float32Array): Promise<void> {
    const layer = this.#require(this.sessionWindow, 'sessionWindow', 'addMessageToContext');
    await layer.addMessage(role, content, metadata, embedding);
  }

  /** The rolling window of recent messages, oldest first. */
  async getContextMessages(): Promise<M[]> {
    return this.#require(this.sessionWindow, 'sessionWindow', 'getContextMessages').getContext();
  }

  /** The rolling window formatted as lines, for a prompt. */
  async getFormattedContext(maxLines?: number): Promise<string> {
    return this.#require(this.sessionWindow, 'sessionWindow', 'getFormattedContext').getFormattedContext(maxLines);
  }

  /** A cached response for a query similar enough to `queryEmbedding` about `url`, or `null`. */
  async getSemanticResponse(url: string, queryEmbedding: Float32Array): Promise<R | null> {
    const layer = this.#require(this.semanticCache, 'semanticCache', 'getSemanticResponse');
    const response = await layer.get(url, queryEmbedding);
    if (response === null || response === undefined) {
      this.#semanticCounter.misses++;
      return null;
    }
    this.#semanticCounter.hits++;
    return response;
  }

  /** Stores the response to a query about `url`. */
  async cacheSemanticResponse(url: string, queryEmbedding: Float32Array, response: R): Promise<void> {
    await this.#require(this.semanticCache, 'semanticCache', 'cacheSemanticResponse').set(url, queryEmbedding, response);
  }

  /**
   * Looks the query up; on a miss runs `compute` once for every concurrent caller with
   * the same URL and identical embedding, stores the result and returns it. A failing
   * `compute` rejects every waiter and stores nothing. With `options.signal` this caller
   * stops waiting when it aborts; `compute`'s `signal` aborts once every waiter stopped.
   */
  async getOrComputeSemanticResponse(
    url: string,
    queryEmbedding: Float32Array,
    compute: (context: FlightContext) => Promise<R> | R,
    options?: FlightOptions,
  ): Promise<R> {
    this.#require(this.semanticCache, 'semanticCache', 'getOrComputeSemanticResponse');
    checkFunction(compute, 'compute');
    if (typeof url !== 'string' || url === '')
      throw new ConfigError('INVALID_VALUE', `url must be a non-empty string, got ${describeValue(url)}.`, { variable: 'url' });
    if (!(queryEmbedding instanceof Float32Array)) {
      throw new ConfigError('INVALID_VALUE', `queryEmbedding must be a Float32Array, got ${describeValue(queryEmbedding)}.`, { variable: 'queryEmbedding' });
    }
    const flight = this.#semanticFlight as SingleFlight<R>;
    return getOrCompute<R>(
      flight,
      `${this.sessionId}\u0000${url}\u0000${embeddingKey(queryEmbedding)}`,
      {
        lookup: () => this.getSemanticResponse(url, queryEmbedding),
        compute: (context) => {
          this.#semanticCounter.computations++;
          return compute(context);
        },
        store: (response) => this.cacheSemanticResponse(url, queryEmbedding, response),
      },
      checkFlightOptions(options),
    );
  }

  /** The cached embedding of `url`, or `null`. */
  async getUrlEmbedding(url: string): Promise<Float32Array | null> {
    const layer = this.#require(this.urlEmbeddingCache, 'urlEmbeddingCache', 'getUrlEmbedding');
    const embedding = await layer.get(url);
    if (embedding === null || embedding === undefined) {
      this.#urlCounter.misses++;
      return null;
    }
    this.#urlCounter.hits++;
    return embedding;
  }

  /** Stores the embedding of `url` (shared by every session). */
  async cacheUrlEmbedding(url: string, embedding: Float32Array): Promise<void> {
    await this.#require(this.urlEmbeddingCache, 'urlEmbeddingCache', 'cacheUrlEmbedding').set(url, embedding);
  }

  /** Stores many URL embeddings at once (a `Map`, an object or `[url, embedding]` pairs). */
  async batchCacheUrlEmbeddings(
    embeddings: Map<string, Float32Array> | Record<string, Float32Array> | Iterable<readonly [string, Float32Array]>,
  ): Promise<void> {
    const layer = this.#require(this.urlEmbeddingCache, 'urlEmbeddingCache', 'batchCacheUrlEmbeddings');
    const entries = embeddingEntries(embeddings);
    if (entries.length === 0) return;
    await layer.batchSet(entries);
  }

  /**
   * The embedding of `url`, computed by `compute` on a miss: concurrent misses for
   * the same URL (in every coordinator sharing the flight group) share one computation.
   * `options.signal` works as for {@link CacheCoordinator.getOrComputeSemanticResponse}.
   */
  async getOrComputeUrlEmbedding(
    url: string,
    compute: (context: FlightContext) => Promise<Float32Array> | Float32Array,
    options?: FlightOptions,
  ): Promise<Float32Array> {
    this.#require(this.urlEmbeddingCache, 'urlEmbeddingCache', 'getOrComputeUrlEmbedding');
    checkFunction(compute, 'compute');
    if (typeof url !== 'string' || url === '')
      throw new ConfigError('INVALID_VALUE', `url must be a non-empty string, got ${describeValue(url)}.`, { variable: 'url' });
    return getOrCompute(
      this.#urlFlight,
      url,
      {
        lookup: () => this.getUrlEmbedding(url),
        compute: (context) => {
          this.#urlCounter.computations++;
          return compute(context);
        },
        store: (embedding) => this.cacheUrlEmbedding(url, embedding),
      },
      checkFlightOptions(options),
    );
  }

  /**
   * Clears this session's semantic cache entries and its context window (the layers
   * present; the URL cache is global and left alone). As in the original.
   */
  async clearSessionCache(): Promise<void> {
    if (this.closed) throw new ConfigError('CLOSED', `CacheCoordinator for session "${this.sessionId}" is closed; clearSessionCache() cannot run.`);
    await Promise.all([this.semanticCache?.clearSession(), this.sessionWindow?.clear()]);
  }

  /** Clears the context window only. */
  async clearContext(): Promise<void> {
    await this.#require(this.sessionWindow, 'sessionWindow', 'clearContext').clear();
  }

  /** Each present layer's stats, with this coordinator's hit rates for the two caches. */
  async getStats(): Promise<CoordinatorStats> {
    const [sessionWindow, semantic, url] = await Promise.all([
      this.sessionWindow?.getStats(),
      this.semanticCache?.getStats(),
      this.urlEmbeddingCache?.getStats(),
    ]);
    const backendErrors: Record<string, number> = {};
    for (const stats of [semantic, url]) {
      const counts = (stats as { backendErrors?: unknown } | undefined)?.backendErrors;
      if (counts === null || typeof counts !== 'object') continue;
      for (const [code, count] of Object.entries(counts)) if (typeof count === 'number') backendErrors[code] = (backendErrors[code] ?? 0) + count;
    }
    return {
      sessionId: this.sessionId,
      backendErrors,
      sessionWindow: sessionWindow ?? null,
      semanticCache: semantic === undefined ? null : { layer: semantic, lookups: lookupStats(this.#semanticCounter) },
      urlEmbeddingCache: url === undefined ? null : { layer: url, lookups: lookupStats(this.#urlCounter) },
    };
  }

  /** `close()`, for `await using`: the coordinator is closed when the block that holds it ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Closes the coordinator: later calls reject with `CLOSED`. Layers are closed too
   * when the coordinator owns them (`closeLayers`, default true for layers you pass;
   * never for a runtime's shared layers). Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#closeLayers) {
        await Promise.all([this.sessionWindow?.close?.(), this.semanticCache?.close?.(), this.urlEmbeddingCache?.close?.()]);
      }
    } finally {
      this.#onClose?.();
    }
  }
}

/** Every key {@link CacheCoordinatorOptions} knows. */
const COORDINATOR_OPTION_KEYS: readonly string[] = [
  'sessionId',
  'sessionWindow',
  'semanticCache',
  'urlEmbeddingCache',
  'closeLayers',
  'flights',
  'onClose',
  'owner',
];

/** A layer passed in must at least have the methods the coordinator calls. */
function checkLayer(layer: unknown, name: string, methods: readonly string[]): void {
  if (layer === undefined) return;
  const missing =
    layer === null || typeof layer !== 'object' ? methods : methods.filter((method) => typeof (layer as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new ConfigError('INVALID_VALUE', `${name} must be a layer object with ${methods.join(', ')}(); missing: ${missing.join(', ')}.`, { variable: name });
  }
}

const MAX_BATCH_ENTRIES = 1_000_000;

/** The `[url, embedding]` pairs of a Map, an iterable of pairs or a plain object, checked. */
function embeddingEntries(embeddings: unknown): [string, Float32Array][] {
  const expected = 'a Map, an object or an iterable of [url, embedding] pairs';
  if (embeddings === null || typeof embeddings !== 'object') {
    throw new ConfigError('INVALID_VALUE', `batchCacheUrlEmbeddings takes ${expected}, got ${describeValue(embeddings)}.`, { variable: 'embeddings' });
  }
  const pairs: [string, Float32Array][] = [];
  if (typeof (embeddings as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') {
    for (const pair of embeddings as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new ConfigError('INVALID_VALUE', `batchCacheUrlEmbeddings takes ${expected}; one entry is ${describeValue(pair)}.`, { variable: 'embeddings' });
      }
      pairs.push([pair[0] as string, pair[1] as Float32Array]);
      // An endless iterable must not grow this array without bound; the layer caps a batch far lower.
      if (pairs.length > MAX_BATCH_ENTRIES)
        throw new ConfigError('INVALID_VALUE', `batchCacheUrlEmbeddings takes at most ${MAX_BATCH_ENTRIES} entries per call.`, { variable: 'embeddings' });
    }
    return pairs;
  }
  return Object.entries(embeddings as Record<string, Float32Array>);
}

function checkFlightOptions(options: unknown): FlightOptions {
  checkOptionKeys(options, ['signal'], 'getOrCompute options');
  const signal = (options as FlightOptions | undefined)?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new ConfigError('INVALID_VALUE', `signal must be an AbortSignal, got ${describeValue(signal)}.`, { variable: 'signal', value: signal });
  }
  return signal === undefined ? {} : { signal };
}
