import type { KVDriver, Logger } from '@lix/redis-pool';
import { BackendGuard, checkBackendErrorPolicy, checkBackendTimeout, checkOptionKeys, describeValue, type BackendErrorPolicy } from './backend.js';
import { SemanticCacheError } from './errors.js';
import { DEFAULT_KEY_PREFIX, checkKeyPrefix, checkUrl, modelSegment, urlEmbeddingKey } from './keys.js';
import type { BackendErrorCounts } from './stats.js';
import { bytesToFloat32, bytesToFloat32Batch, float32ToBytes, toFloat32, type EmbeddingInput } from './vector.js';

/** Default TTL of a URL embedding: 24 hours, as in the original. */
export const DEFAULT_URL_EMBEDDING_TTL_MS = 86_400_000;
/** Most URLs accepted by one `batchGet`/`batchSet` call. */
export const MAX_BATCH_SIZE = 10_000;

/** URLs whose keys are remembered per instance (the memo is simply emptied when full). */
const KEY_CACHE_SIZE = 4096;

/** Options of {@link UrlEmbeddingCache}. */
export interface UrlEmbeddingCacheOptions {
  /** Any driver of `@lix/redis-pool`. Not closed by the cache. */
  driver: KVDriver;
  /** Embedding model id; part of every key, so switching models never serves old vectors. */
  modelId: string;
  /** First key segment (default `lix`). */
  keyPrefix?: string;
  /** How long an embedding lives (default 86 400 000 ms = 24 h). */
  ttlMs?: number;
  /** When set, `set` refuses and `get` reports (`CORRUPT_ENTRY`) vectors of another length. */
  dimensions?: number;
  /** Receives diagnostics; nothing is printed otherwise. */
  logger?: Logger;
  /**
   * What a backend failure does: `'miss'` (default) makes a read a miss and skips a
   * write, logged and counted in `backendErrors`; `'throw'` rejects with `BACKEND_ERROR`.
   */
  onBackendError?: BackendErrorPolicy;
  /**
   * Longest one call waits for the backend before it fails with code `TIMEOUT` (a miss by
   * default). Default: the driver's `commandTimeoutMs` (5000 ms unless configured), else 5000 ms.
   */
  backendTimeoutMs?: number;
  /**
   * Most keys one Redis command of `batchGet`/`batchSet` carries (default: all of the call's,
   * up to {@link MAX_BATCH_SIZE}). A larger call is split into commands of this size, sent
   * together, so no single MGET or pipeline stalls the server for long.
   */
  batchSize?: number;
}

/** Every key {@link UrlEmbeddingCacheOptions} knows; any other key is rejected (`INVALID_OPTION`). */
export const URL_EMBEDDING_CACHE_OPTION_KEYS: readonly string[] = [
  'driver',
  'modelId',
  'keyPrefix',
  'ttlMs',
  'dimensions',
  'logger',
  'onBackendError',
  'backendTimeoutMs',
  'batchSize',
];

/** What {@link UrlEmbeddingCache.getStats} reports (counters of this instance). */
export interface UrlEmbeddingCacheStats {
  modelId: string;
  /** URLs looked up (a batch of n counts n). */
  lookups: number;
  hits: number;
  misses: number;
  /** `hits / lookups`, 0 before the first lookup. */
  hitRate: number;
  /** Embeddings written. */
  sets: number;
  /** Backend failures by `KVError` code, each a miss or a skipped write unless `onBackendError` is `'throw'`. */
  backendErrors: BackendErrorCounts;
}

/** Entries accepted by {@link UrlEmbeddingCache.batchSet}. */
export type UrlEmbeddingEntries = ReadonlyMap<string, EmbeddingInput> | Iterable<readonly [string, EmbeddingInput]> | Readonly<Record<string, EmbeddingInput>>;

/**
 * "We already embedded this URL": a global URL → embedding cache shared by every
 * session. Values are the raw little-endian float32 bytes the Python original stores.
 */
export class UrlEmbeddingCache {
  readonly #driver: KVDriver;
  readonly #modelId: string;
  readonly #model: string;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #dimensions: number | undefined;
  readonly #logger: Logger | undefined;
  readonly #keyCache = new Map<string, string>();
  readonly #backend: BackendGuard;
  readonly #batchSize: number;
  #hits = 0;
  #misses = 0;
  #sets = 0;

  constructor(options: UrlEmbeddingCacheOptions) {
    if (options === null || typeof options !== 'object') throw new SemanticCacheError('INVALID_OPTION', 'UrlEmbeddingCache needs an options object.');
    checkOptionKeys(options, URL_EMBEDDING_CACHE_OPTION_KEYS, 'UrlEmbeddingCache');
    const { driver } = options;
    if (driver === null || typeof driver !== 'object' || typeof driver.mget !== 'function') {
      throw new SemanticCacheError('INVALID_OPTION', 'driver must be a KVDriver from @lix/redis-pool.');
    }
    const ttlMs = options.ttlMs ?? DEFAULT_URL_EMBEDDING_TTL_MS;
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > 365 * 86_400_000) {
      throw new SemanticCacheError('INVALID_OPTION', `ttlMs must be a whole number of milliseconds from 1 to one year, got ${describeValue(ttlMs)}.`);
    }
    if (options.dimensions !== undefined && (!Number.isInteger(options.dimensions) || options.dimensions < 1 || options.dimensions > 65_536)) {
      throw new SemanticCacheError('INVALID_OPTION', `dimensions must be an integer from 1 to 65536, got ${describeValue(options.dimensions)}.`);
    }
    if (options.logger !== undefined && (options.logger === null || typeof options.logger !== 'object')) {
      throw new SemanticCacheError('INVALID_OPTION', 'logger must be an object with optional debug/info/warn/error methods.');
    }
    const batchSize = options.batchSize ?? MAX_BATCH_SIZE;
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new SemanticCacheError('INVALID_OPTION', `batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${describeValue(batchSize)}.`);
    }
    const policy = checkBackendErrorPolicy(options.onBackendError);
    const timeoutMs = checkBackendTimeout(options.backendTimeoutMs, driver.commandTimeoutMs);
    this.#driver = driver;
    this.#model = modelSegment(options.modelId);
    this.#modelId = options.modelId;
    this.#prefix = checkKeyPrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.#ttlMs = ttlMs;
    this.#dimensions = options.dimensions;
    this.#logger = options.logger;
    this.#backend = new BackendGuard('url-embedding-cache', policy, timeoutMs, options.logger);
    this.#batchSize = batchSize;
  }

  /** The model id in this cache's keys. */
  get modelId(): string {
    return this.#modelId;
  }

  /** The Redis key of `url` (for inspection and tooling). */
  keyOf(url: string): string {
    let key = this.#keyCache.get(url);
    if (key === undefined) {
      key = urlEmbeddingKey(this.#prefix, this.#model, checkUrl(url));
      // Building and flattening a fresh key string per URL cost more than decoding its
      // vector; popular URLs are looked up again and again, so remember recent keys.
      if (this.#keyCache.size >= KEY_CACHE_SIZE) this.#keyCache.clear();
      if (url.length <= 2048) this.#keyCache.set(url, key);
    }
    return key;
  }

  #decode(
    url: string,
    bytes: Uint8Array | null,
    decoded: Float32Array | null | undefined = bytes === null ? null : (bytesToFloat32(bytes) ?? undefined),
  ): Float32Array | null {
    if (bytes === null) {
      this.#misses++;
      return null;
    }
    const vector = decoded;
    if (vector === null || vector === undefined || vector.length === 0 || (this.#dimensions !== undefined && vector.length !== this.#dimensions)) {
      throw new SemanticCacheError(
        'CORRUPT_ENTRY',
        `The cached embedding of ${url.slice(0, 200)} is ${bytes.length} bytes, not ${this.#dimensions === undefined ? 'a whole number of' : this.#dimensions} float32 values.`,
      );
    }
    this.#hits++;
    return vector;
  }

  #encode(embedding: EmbeddingInput): Uint8Array {
    const vector = toFloat32(embedding);
    if (this.#dimensions !== undefined && vector.length !== this.#dimensions) {
      throw new SemanticCacheError('DIMENSION_MISMATCH', `The embedding has ${vector.length} dimensions; this cache holds ${this.#dimensions}.`);
    }
    return float32ToBytes(vector);
  }

  /** The cached embedding of `url`, or `null`. */
  async get(url: string): Promise<Float32Array | null> {
    const key = this.keyOf(url);
    let bytes: Uint8Array | null;
    try {
      bytes = await this.#backend.call(this.#backend.deadline(), 'get', () => this.#driver.get(key));
    } catch (error) {
      this.#backend.failed('get', error);
      this.#misses++;
      return null;
    }
    return this.#decode(url, bytes);
  }

  /** Caches `embedding` for `url` (raw float32, TTL `ttlMs`). */
  async set(url: string, embedding: EmbeddingInput): Promise<void> {
    const key = this.keyOf(url);
    const bytes = this.#encode(embedding);
    try {
      await this.#backend.call(this.#backend.deadline(), 'set', () => this.#driver.set(key, bytes, { ttlMs: this.#ttlMs }));
    } catch (error) {
      this.#backend.failed('set', error);
      return;
    }
    this.#sets++;
  }

  /**
   * Embeddings of `urls` in the same order (`null` for each miss), with one MGET: one round
   * trip on a single node, one per slot group on a Cluster. The returned arrays may be views
   * into one shared buffer (disjoint ranges); copy one before transferring its buffer.
   */
  async batchGet(urls: readonly string[]): Promise<Array<Float32Array | null>> {
    if (!Array.isArray(urls)) throw new SemanticCacheError('INVALID_URL', 'batchGet needs an array of URLs.');
    if (urls.length > MAX_BATCH_SIZE)
      throw new SemanticCacheError('INVALID_OPTION', `batchGet takes at most ${MAX_BATCH_SIZE} URLs per call, got ${urls.length}.`);
    if (urls.length === 0) return [];
    const keys = urls.map((url) => this.keyOf(url));
    let values: (Uint8Array | null)[];
    try {
      values = await this.#backend.call(this.#backend.deadline(), 'batchGet', () => this.#mgetInBatches(keys));
    } catch (error) {
      this.#backend.failed('batchGet', error);
      this.#misses += urls.length;
      return urls.map(() => null);
    }
    const decoded = bytesToFloat32Batch(values);
    return values.map((bytes, index) => this.#decode(urls[index]!, bytes, decoded[index]));
  }

  /**
   * Caches many embeddings in one round trip (a pipeline of SET … PX; per slot group on a
   * Cluster). Every entry is validated before anything is written.
   */
  async batchSet(entries: UrlEmbeddingEntries): Promise<void> {
    const pairs = toPairs(entries);
    if (pairs.length > MAX_BATCH_SIZE)
      throw new SemanticCacheError('INVALID_OPTION', `batchSet takes at most ${MAX_BATCH_SIZE} entries per call, got ${pairs.length}.`);
    if (pairs.length === 0) return;
    const encoded = pairs.map(([url, embedding]) => [this.keyOf(url), this.#encode(embedding)] as const);
    try {
      await this.#backend.call(this.#backend.deadline(), 'batchSet', () =>
        Promise.all(chunksOf(encoded, this.#batchSize).map((chunk) => this.#driver.mset(chunk, { ttlMs: this.#ttlMs }))),
      );
    } catch (error) {
      this.#backend.failed('batchSet', error);
      return;
    }
    this.#sets += pairs.length;
    this.#logger?.debug?.('url-embedding-cache: batch set', { count: pairs.length });
  }

  async #mgetInBatches(keys: string[]): Promise<(Uint8Array | null)[]> {
    if (keys.length <= this.#batchSize) return this.#driver.mget(keys);
    const parts = await Promise.all(chunksOf(keys, this.#batchSize).map((chunk) => this.#driver.mget(chunk)));
    return parts.flat();
  }

  /** Counters of this instance. */
  async getStats(): Promise<UrlEmbeddingCacheStats> {
    const lookups = this.#hits + this.#misses;
    return {
      modelId: this.#modelId,
      lookups,
      hits: this.#hits,
      misses: this.#misses,
      hitRate: lookups === 0 ? 0 : this.#hits / lookups,
      sets: this.#sets,
      backendErrors: this.#backend.counter.snapshot(),
    };
  }

  /** Zeroes this instance's counters. */
  resetStats(): void {
    this.#hits = 0;
    this.#misses = 0;
    this.#sets = 0;
    this.#backend.counter.reset();
  }
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function toPairs(entries: UrlEmbeddingEntries): Array<readonly [string, EmbeddingInput]> {
  if (entries === null || typeof entries !== 'object')
    throw new SemanticCacheError('INVALID_OPTION', 'batchSet needs a Map, an iterable of [url, embedding] pairs or a plain object.');
  if (Symbol.iterator in entries) {
    const pairs: Array<readonly [string, EmbeddingInput]> = [];
    for (const pair of entries as Iterable<readonly [string, EmbeddingInput]>) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new SemanticCacheError('INVALID_OPTION', 'batchSet entries must be [url, embedding] pairs.');
      pairs.push(pair);
      if (pairs.length > MAX_BATCH_SIZE) break;
    }
    return pairs;
  }
  return Object.entries(entries as Record<string, EmbeddingInput>);
}
