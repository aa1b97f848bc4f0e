import { sessionIdProblem } from '@lix/core';
import { systemClock, type Clock, type KVDriver, type Logger, type ScriptReply } from '@lix/redis-pool';
import { BackendGuard, checkBackendErrorPolicy, checkBackendTimeout, checkOptionKeys, describeValue, type BackendErrorPolicy } from './backend.js';
import { SemanticCacheError, backendError } from './errors.js';
import { DEFAULT_KEY_PREFIX, checkKeyPrefix, checkUrl, responsesKeyOf, scopeKeys, scopeScanPattern, type ScopeKeys } from './keys.js';
import { VECTOR_HEADER_BYTES, countLive, formatExpiry, readHeader, recordId, recordSize, scanBestMatch } from './records.js';
import { SET_CORRUPT, SET_DIMENSION_MISMATCH, SET_OK, headerArg, setEntryScript } from './scripts.js';
import { decodeResponse, encodeResponse } from './serialization.js';
import type { SimilarityTracker, BackendErrorCounts, SimilarityBucket, SimilaritySummary } from './stats.js';
import { float32ToBytes, normalizeEmbedding, type EmbeddingInput } from './vector.js';
import type { TelemetrySetting } from '@lix/telemetry';
import { CacheTelemetry } from './cache-telemetry.js';
import {
  STALE_SET_WINDOW_MS,
  encodeEntryMeta,
  lifetimeOf,
  parseEntryMeta,
  resolveCacheExpiry,
  resolveEntryExpiry,
  type CacheExpiry,
  type ExpiryMode,
} from './expiry.js';
import { extendEntryScript } from './policy-scripts.js';
import { packEntryValue, unpackEntryValue, storedExpiryAt } from './entry-value.js';
import { parseInvalidateSelector, parseSetOptions, type InvalidateSelector, type InvalidationResult, type SetEntryOptions } from './policy-options.js';
import { invalidateRef, registerTags, tagRef, urlRef } from './tags.js';
import { SET_STALE } from './scripts.js';
import { similarityHistogramOf, type SimilarityHistogram } from './histogram.js';

/** Default TTL of an entry: 5 minutes, as in the original. */
export const DEFAULT_SEMANTIC_TTL_MS = 300_000;
/** Default cosine-similarity threshold of a hit. */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.9;
/** Default cap on entries per scope (session + URL). */
export const DEFAULT_MAX_ITEMS_PER_URL = 50;
/** Largest accepted `maxItemsPerUrl`. */
export const MAX_ITEMS_PER_URL_LIMIT = 1000;
/** Default cap on one serialised response. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Whose entries a cache reads and writes. */
export type SemanticCacheScope = 'session' | 'shared';

/** Options of {@link SemanticCache}. */
export interface SemanticCacheOptions {
  /** Any driver of `@lix/redis-pool` (ioredis, node-redis, in-memory). Not closed by the cache. */
  driver: KVDriver;
  /** The session whose entries this instance sees (with `scope: 'session'`). */
  sessionId: string;
  /** First key segment (default `lix`): separates layers and apps on one Redis / Cluster. */
  keyPrefix?: string;
  /** How long an entry lives (default 300 000 ms). */
  ttlMs?: number;
  /** Smallest cosine similarity counted as a hit, in [−1, 1] (default 0.90). */
  similarityThreshold?: number;
  /** Most entries kept per scope; the oldest are dropped first (default 50, at most 1000). */
  maxItemsPerUrl?: number;
  /**
   * `'session'` (default): entries are private to `sessionId`. `'shared'`: every instance with
   * the same prefix reads and writes one pool per URL (cross-session hits; opt in knowingly).
   */
  scope?: SemanticCacheScope;
  /** Largest serialised response accepted by `set` (default 4 MiB). */
  maxResponseBytes?: number;
  /** Receives debug/warn diagnostics; nothing is printed otherwise. */
  logger?: Logger;
  /** Time source for entry expiry (inject in tests; default `Date.now`). */
  clock?: Clock;
  /**
   * What a backend failure does: `'miss'` (default) makes a lookup a miss and skips a
   * `set`, logged and counted in `backendErrors`; `'throw'` rejects with `BACKEND_ERROR`.
   */
  onBackendError?: BackendErrorPolicy;
  /**
   * Longest one call waits for the backend, all its commands together, before it fails
   * with code `TIMEOUT` (a miss by default). Default: the driver's `commandTimeoutMs`
   * (5000 ms for the Redis drivers unless configured), else 5000 ms.
   */
  backendTimeoutMs?: number;
  /**
   * `'absolute'` (default): an entry lives `ttlMs` from its write. `'sliding'`: a hit
   * extends it to `ttlMs` from the hit, up to `maxAgeMs` from the write. `set` can override
   * it per entry.
   */
  expiry?: ExpiryMode;
  /** Sliding entries' cap on life from their write (default 24 h, at least `ttlMs`). */
  maxAgeMs?: number;
  /**
   * OpenTelemetry metrics and spans (see `@lix/telemetry`): by default the global API when
   * `@opentelemetry/api` is installed (a no-op until an SDK is registered); `false` for none.
   */
  telemetry?: TelemetrySetting;
}

/** Every key {@link SemanticCacheOptions} knows; any other key is rejected (`INVALID_OPTION`). */
export const SEMANTIC_CACHE_OPTION_KEYS: readonly string[] = [
  'driver',
  'sessionId',
  'keyPrefix',
  'ttlMs',
  'similarityThreshold',
  'maxItemsPerUrl',
  'scope',
  'maxResponseBytes',
  'logger',
  'clock',
  'onBackendError',
  'backendTimeoutMs',
  'expiry',
  'maxAgeMs',
  'telemetry',
];

/** A hit, as {@link SemanticCache.lookup} reports it. */
export interface SemanticCacheHit<T> {
  response: T;
  /** Cosine similarity between the query and the stored query that matched. */
  similarity: number;
}

/** Options of {@link SemanticCache.lookup}. */
export interface LookupOptions {
  /** Overrides the instance's `similarityThreshold` for this call (e.g. while tuning). */
  similarityThreshold?: number;
}

/** What {@link SemanticCache.getStats} reports. */
export interface SemanticCacheStats {
  scope: SemanticCacheScope;
  sessionId: string;
  similarityThreshold: number;
  /** Lookups counted by this instance since creation or `resetStats()`. */
  lookups: number;
  hits: number;
  misses: number;
  /** `hits / lookups`, 0 before the first lookup: the query-level hit rate. */
  hitRate: number;
  /** Misses where the scope held no live entry at all (nothing to compare with). */
  emptyMisses: number;
  /** Misses where a best match existed but its response had just been trimmed by another writer. */
  raceMisses: number;
  /** Best similarity of each hit. */
  hitSimilarity: SimilaritySummary;
  /** Best similarity of each miss that had something to compare (the near misses tell you how far to lower the threshold). */
  missSimilarity: SimilaritySummary;
  /** Best similarities bucketed, split by outcome. */
  similarityHistogram: SimilarityBucket[];
  /** Entries written by this instance. */
  sets: number;
  /** Entries dropped (expired or over `maxItemsPerUrl`) by this instance's writes. */
  evictions: number;
  /**
   * Backend failures by `KVError` code (e.g. `{ CONNECTION_LOST: 3, TIMEOUT: 1 }`), each
   * treated as a miss or a skipped write unless `onBackendError` is `'throw'`.
   */
  backendErrors: BackendErrorCounts;
  /** Writes refused because a tag of theirs was invalidated while they were in flight. */
  staleSets: number;
  /** Live entries removed by this instance's `invalidate` calls. */
  invalidated: number;
  /** Live entries in this instance's scope owner, counted with SCAN (`null` with `{ countStored: false }`, or when the backend failed). */
  storedEntries: number | null;
  /** URLs with at least one stored key in this scope owner (`null` with `{ countStored: false }`). */
  storedUrls: number | null;
}

function checkThreshold(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < -1 || value > 1) {
    throw new SemanticCacheError('INVALID_OPTION', `${name} must be a number in [-1, 1], got ${describeValue(value)}.`);
  }
  return value;
}

function checkPositiveInteger(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new SemanticCacheError('INVALID_OPTION', `${name} must be an integer from 1 to ${max}, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * "Didn't we already answer this?": caches responses keyed by URL and query embedding,
 * and answers a new query with the response of the most similar stored query when the
 * cosine similarity reaches the threshold.
 *
 * A lookup fetches one string per scope holding only the packed unit vectors, scans them
 * in a tight loop, and reads the one matching response only on a hit. `set` is a single
 * Lua script, so concurrent writers in any number of processes lose nothing.
 */
export class SemanticCache<T = unknown> {
  readonly #driver: KVDriver;
  readonly #sessionId: string;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #threshold: number;
  readonly #maxItems: number;
  readonly #scope: SemanticCacheScope;
  readonly #maxResponseBytes: number;
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  readonly #similarities: SimilarityTracker;
  readonly #backend: BackendGuard;
  readonly #expiry: CacheExpiry;
  readonly #telemetry: CacheTelemetry;
  #staleSets = 0;
  #invalidated = 0;
  /** URL → keys, so repeated lookups on one page skip hashing; bounded and simply cleared when full. */
  readonly #keyCache = new Map<string, ScopeKeys>();
  #hits = 0;
  #misses = 0;
  #emptyMisses = 0;
  #raceMisses = 0;
  #sets = 0;
  #evictions = 0;

  constructor(options: SemanticCacheOptions) {
    if (options === null || typeof options !== 'object') throw new SemanticCacheError('INVALID_OPTION', 'SemanticCache needs an options object.');
    checkOptionKeys(options, SEMANTIC_CACHE_OPTION_KEYS, 'SemanticCache');
    const { driver } = options;
    if (driver === null || typeof driver !== 'object' || typeof driver.eval !== 'function' || typeof driver.get !== 'function') {
      throw new SemanticCacheError('INVALID_OPTION', 'driver must be a KVDriver from @lix/redis-pool.');
    }
    // The one session-id rule of every layer (`@lix/core`): an id the window refuses is refused here too.
    const sessionIdIssue = sessionIdProblem(options.sessionId);
    if (sessionIdIssue !== undefined) throw new SemanticCacheError('INVALID_OPTION', `sessionId: ${sessionIdIssue}.`);
    const scope = options.scope ?? 'session';
    if (scope !== 'session' && scope !== 'shared')
      throw new SemanticCacheError('INVALID_OPTION', `scope must be 'session' or 'shared', got ${describeValue(scope)}.`);
    const ttlMs = options.ttlMs ?? DEFAULT_SEMANTIC_TTL_MS;
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > 365 * 86_400_000) {
      throw new SemanticCacheError('INVALID_OPTION', `ttlMs must be a whole number of milliseconds from 1 to one year, got ${describeValue(ttlMs)}.`);
    }
    const clock = options.clock ?? systemClock;
    if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function')
      throw new SemanticCacheError('INVALID_OPTION', 'clock must have a now() method.');
    checkLogger(options.logger);
    const policy = checkBackendErrorPolicy(options.onBackendError);
    const timeoutMs = checkBackendTimeout(options.backendTimeoutMs, driver.commandTimeoutMs);
    this.#expiry = resolveCacheExpiry(options, ttlMs);
    this.#telemetry = new CacheTelemetry(options.telemetry, scope, options.sessionId);
    this.#similarities = this.#telemetry.similarityTracker();
    this.#driver = this.#telemetry.observeDriver(driver);
    this.#sessionId = options.sessionId;
    this.#prefix = checkKeyPrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.#ttlMs = ttlMs;
    this.#threshold = checkThreshold(options.similarityThreshold ?? DEFAULT_SIMILARITY_THRESHOLD, 'similarityThreshold');
    this.#maxItems = checkPositiveInteger(options.maxItemsPerUrl ?? DEFAULT_MAX_ITEMS_PER_URL, 'maxItemsPerUrl', MAX_ITEMS_PER_URL_LIMIT);
    this.#maxResponseBytes = checkPositiveInteger(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes', 512 * 1024 * 1024);
    this.#scope = scope;
    this.#logger = options.logger;
    this.#clock = clock;
    this.#backend = new BackendGuard('semantic-cache', policy, timeoutMs, options.logger);
  }

  /** The session this instance serves. */
  get sessionId(): string {
    return this.#sessionId;
  }

  /** `'session'` or `'shared'`. */
  get scope(): SemanticCacheScope {
    return this.#scope;
  }

  /** The instance's similarity threshold. */
  get similarityThreshold(): number {
    return this.#threshold;
  }

  #keysOf(url: string): ScopeKeys {
    let keys = this.#keyCache.get(url);
    if (keys === undefined) {
      keys = scopeKeys(this.#prefix, this.#scope, this.#sessionId, url);
      if (this.#keyCache.size >= 256) this.#keyCache.clear();
      if (url.length <= 2048) this.#keyCache.set(url, keys);
    }
    return keys;
  }

  #now(): number {
    return Math.floor(this.#clock.now());
  }

  /** The cached response of the most similar stored query for `url`, or `null` below the threshold. */
  async get(url: string, embedding: EmbeddingInput): Promise<T | null> {
    const hit = await this.lookup(url, embedding);
    return hit === null ? null : hit.response;
  }

  /** Like {@link get}, but also reports the similarity of the match (for tuning and logging). */
  lookup(url: string, embedding: EmbeddingInput, options?: LookupOptions): Promise<SemanticCacheHit<T> | null> {
    return this.#telemetry.lookup(() => this.#lookup(url, embedding, options));
  }

  async #lookup(url: string, embedding: EmbeddingInput, options?: LookupOptions): Promise<SemanticCacheHit<T> | null> {
    checkUrl(url);
    const threshold = options?.similarityThreshold === undefined ? this.#threshold : checkThreshold(options.similarityThreshold, 'similarityThreshold');
    const query = normalizeEmbedding(embedding);
    const keys = this.#keysOf(url);
    const deadline = this.#backend.deadline();
    let packed: Uint8Array | null;
    try {
      packed = await this.#backend.call(deadline, 'lookup', () => this.#driver.get(keys.vectors));
    } catch (error) {
      return this.#backendMiss('lookup', error);
    }
    if (packed === null) return this.#emptyMiss();
    const { dimensions, count } = readHeader(packed);
    const best = dimensions === query.length ? scanBestMatch(packed, dimensions, count, query, this.#now()) : undefined;
    if (best === undefined) {
      // Another dimension is only an error while such entries are live; expired ones are just trimmed later.
      if (countLive(packed, this.#now()) === 0) return this.#emptyMiss();
      throw new SemanticCacheError(
        'DIMENSION_MISMATCH',
        `The query has ${query.length} dimensions but this scope stores ${dimensions}-dimension embeddings; use one embedding model per cache (or clearSession()).`,
      );
    }
    if (best.index < 0) return this.#emptyMiss();
    if (best.similarity < threshold) {
      this.#misses++;
      this.#similarities.record(best.similarity, false);
      return null;
    }
    const id = recordId(packed, dimensions, best.index);
    let stored: Uint8Array | null;
    try {
      stored = await this.#backend.call(deadline, 'lookup', () => this.#driver.hget(keys.responses, id));
    } catch (error) {
      return this.#backendMiss('lookup', error);
    }
    if (stored === null) {
      // Trimmed by a concurrent set between our two reads: a miss, never a wrong answer.
      this.#misses++;
      this.#raceMisses++;
      this.#similarities.record(best.similarity, false);
      return null;
    }
    const response = await this.#hitResponse(stored, keys, packed, dimensions, best.index);
    this.#hits++;
    this.#similarities.record(best.similarity, true);
    return { response, similarity: best.similarity };
  }

  /** A lookup the backend could not answer: a miss (or a rejection in `'throw'` mode). */
  #backendMiss(operation: string, error: unknown): null {
    this.#backend.failed(operation, error);
    this.#misses++;
    return null;
  }

  /**
   * Decodes a hit and, when the entry slides and would gain at least a tenth of its idle
   * time, extends it with one script (atomic; the common hit costs no write and no script).
   * An extension that fails leaves the hit a hit: the entry just keeps its old expiry.
   */
  async #hitResponse(stored: Uint8Array, keys: ScopeKeys, packed: Uint8Array, dimensions: number, index: number): Promise<T> {
    const { meta, response } = unpackEntryValue(stored);
    const decoded = decodeResponse<T>(response);
    if (meta === null || meta.charCodeAt(0) !== 0x73) return decoded;
    const parsed = parseEntryMeta(meta);
    if (parsed === null || !parsed.sliding) return decoded;
    const now = this.#now();
    const size = recordSize(dimensions);
    const offset = VECTOR_HEADER_BYTES + index * size;
    if (Math.min(now + parsed.idleMs, parsed.deadlineMs) - storedExpiryAt(packed, offset) < parsed.idleMs / 10) return decoded;
    try {
      await this.#driver.eval(extendEntryScript, [keys.vectors, keys.responses], [recordId(packed, dimensions, index), offset, now, size]);
    } catch (error) {
      this.#logger?.warn?.('semantic-cache: could not extend a sliding entry; it keeps its expiry', { error });
    }
    return decoded;
  }

  #emptyMiss(): null {
    this.#misses++;
    this.#emptyMisses++;
    return null;
  }

  /**
   * Stores `response` for the query `embedding` on `url`, atomically: expired entries and
   * the oldest beyond `maxItemsPerUrl` are dropped in the same step.
   */
  set(url: string, embedding: EmbeddingInput, response: T, options?: SetEntryOptions): Promise<void> {
    return this.#telemetry.set(() => this.#set(url, embedding, response, options));
  }

  async #set(url: string, embedding: EmbeddingInput, response: T, setOptions?: SetEntryOptions): Promise<void> {
    checkUrl(url);
    const { options, tags } = parseSetOptions(setOptions);
    const expiry = resolveEntryExpiry(this.#expiry, this.#ttlMs, options);
    const unit = normalizeEmbedding(embedding);
    const encoded = encodeResponse(response, this.#maxResponseBytes);
    const keys = this.#keysOf(url);
    let reply: ScriptReply;
    try {
      const deadline = this.#backend.deadline();
      // Tags (the URL is always one) are registered first: see tags.ts for why this order makes invalidation race-free.
      const refs = [urlRef(this.#prefix, url), ...tags.map((tag) => tagRef(this.#prefix, tag))];
      const registration = await this.#backend.call(deadline, 'set', () => registerTags(this.#driver, refs, keys.vectors, lifetimeOf(expiry)));
      const now = this.#now();
      reply = await this.#backend.call(deadline, 'set', () =>
        this.#driver.eval(
          setEntryScript,
          [keys.vectors, keys.responses, keys.tombstones],
          [
            now,
            formatExpiry(now + expiry.ttlMs),
            this.#maxItems,
            unit.length,
            float32ToBytes(unit),
            packEntryValue(encodeEntryMeta(expiry, now, registration.generations), encoded),
            headerArg(unit.length),
            '',
            registration.registeredAt,
            STALE_SET_WINDOW_MS,
            ...registration.generations.flat(),
          ],
        ),
      );
    } catch (error) {
      // Skipped: the response was computed anyway, it just is not cached this time.
      this.#backend.failed('set', error);
      return;
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new SemanticCacheError('BACKEND_ERROR', `The set script returned an unexpected reply: ${JSON.stringify(reply)}.`);
    }
    const status = reply[0];
    if (status === SET_DIMENSION_MISMATCH) {
      throw new SemanticCacheError(
        'DIMENSION_MISMATCH',
        `The embedding has ${unit.length} dimensions but this scope stores ${String(reply[1])}-dimension embeddings; use one embedding model per cache (or clearSession()).`,
      );
    }
    if (status === SET_CORRUPT) {
      throw new SemanticCacheError('CORRUPT_ENTRY', `The key ${keys.vectors} does not hold an SC1 vector list; clear it with clearSession().`);
    }
    if (status === SET_STALE) {
      this.#staleSets++;
      this.#telemetry.staleSet();
      this.#logger?.debug?.('semantic-cache: refused a write whose tag was invalidated while it was in flight', { url: url.slice(0, 200) });
      return;
    }
    if (status !== SET_OK) throw new SemanticCacheError('BACKEND_ERROR', `The set script returned status ${status}.`);
    const dropped = typeof reply[2] === 'number' ? reply[2] : 0;
    this.#sets++;
    this.#evictions += dropped;
    this.#telemetry.evicted(dropped);
    if (dropped > 0) this.#logger?.debug?.('semantic-cache: dropped entries on set', { dropped, live: reply[3] });
  }

  /**
   * Removes, in every scope (every session and the shared pool, on every Cluster node),
   * the entries carrying any of `tags` and, with `url`, every entry of that URL. Only the
   * scopes indexed under those tags are visited: no KEYS, no SCAN, no reading of other
   * entries. A `set` racing it never brings an invalidated entry back: a write that
   * registered its tags before the invalidation is removed or refused (`staleSets`).
   */
  invalidate(selector: InvalidateSelector): Promise<InvalidationResult> {
    return this.#telemetry.invalidate(async () => {
      const { tags, url } = parseInvalidateSelector(selector);
      const refs = tags.map((tag) => tagRef(this.#prefix, tag));
      if (url !== undefined) refs.push(urlRef(this.#prefix, url));
      const result = { removed: 0, scopes: 0 };
      try {
        for (const ref of refs) {
          const done = await invalidateRef(this.#driver, ref, this.#now());
          result.removed += done.removed;
          result.scopes += done.scopes;
          if (done.corruptScopes > 0)
            this.#logger?.warn?.('semantic-cache: skipped scopes that are not in the SC1 format while invalidating', { scopes: done.corruptScopes });
        }
      } catch (error) {
        throw backendError('invalidate', error);
      }
      this.#invalidated += result.removed;
      this.#telemetry.invalidated(result.removed);
      return result;
    });
  }

  /**
   * The live entry most similar to `embedding` on `url`, whatever the threshold, with its
   * similarity; `null` when the scope is empty. Counts nothing and never extends a sliding
   * entry: for calibration and inspection.
   */
  async nearest(url: string, embedding: EmbeddingInput): Promise<SemanticCacheHit<T> | null> {
    checkUrl(url);
    const query = normalizeEmbedding(embedding);
    const keys = this.#keysOf(url);
    try {
      const packed = await this.#driver.get(keys.vectors);
      if (packed === null) return null;
      const { dimensions, count } = readHeader(packed);
      if (dimensions !== query.length) {
        if (countLive(packed, this.#now()) === 0) return null;
        throw new SemanticCacheError(
          'DIMENSION_MISMATCH',
          `The query has ${query.length} dimensions but this scope stores ${dimensions}-dimension embeddings.`,
        );
      }
      const best = scanBestMatch(packed, dimensions, count, query, this.#now());
      if (best.index < 0) return null;
      const stored = await this.#driver.hget(keys.responses, recordId(packed, dimensions, best.index));
      return stored === null ? null : { response: decodeResponse<T>(unpackEntryValue(stored).response), similarity: best.similarity };
    } catch (error) {
      throw backendError('nearest', error);
    }
  }

  /**
   * This instance's best-similarity histogram in a plottable form: bucket edges, hit and
   * miss counts per bucket, and the threshold.
   */
  getSimilarityHistogram(): SimilarityHistogram {
    return similarityHistogramOf(this.#similarities.histogram(), { scope: this.#scope, sessionId: this.#sessionId, similarityThreshold: this.#threshold });
  }

  /**
   * Deletes every entry of this instance's scope owner (all URLs), found with SCAN, never
   * KEYS. With `scope: 'shared'` that is the whole shared pool under this prefix.
   * Resolves with the number of keys deleted.
   */
  async clearSession(): Promise<number> {
    let deleted = 0;
    try {
      for await (const vectorsKey of this.#driver.scan({ match: scopeScanPattern(this.#prefix, this.#scope, this.#sessionId), count: 500 })) {
        deleted += await this.#driver.del([vectorsKey, responsesKeyOf(vectorsKey)]);
      }
    } catch (error) {
      throw backendError('clearSession', error);
    }
    this.#logger?.debug?.('semantic-cache: cleared scope', { deleted, scope: this.#scope });
    return deleted;
  }

  /** Every vectors key of this instance's scope owner (SCAN, never KEYS). */
  async #scanKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const vectorsKey of this.#driver.scan({ match: scopeScanPattern(this.#prefix, this.#scope, this.#sessionId), count: 500 }))
      keys.push(vectorsKey);
    return keys;
  }

  /**
   * Counters of this instance plus, unless `countStored` is false, the live entries and
   * URLs of its scope owner (SCAN, then one GET per URL; never KEYS).
   */
  async getStats(options?: { countStored?: boolean }): Promise<SemanticCacheStats> {
    let storedEntries: number | null = null;
    let storedUrls: number | null = null;
    if (options?.countStored !== false) {
      storedEntries = 0;
      storedUrls = 0;
      const now = this.#now();
      const deadline = this.#backend.deadline();
      try {
        const keys = await this.#backend.call(deadline, 'getStats', () => this.#scanKeys());
        for (const vectorsKey of keys) {
          const packed = await this.#backend.call(deadline, 'getStats', () => this.#driver.get(vectorsKey));
          if (packed === null) continue;
          storedUrls++;
          try {
            storedEntries += countLive(packed, now);
          } catch (error) {
            this.#logger?.warn?.('semantic-cache: skipping a corrupt vector list in stats', { key: vectorsKey, error });
          }
        }
      } catch (error) {
        // Unknown rather than wrong: the counters below are still this instance's.
        this.#backend.failed('getStats', error);
        storedEntries = null;
        storedUrls = null;
      }
    }
    const lookups = this.#hits + this.#misses;
    return {
      scope: this.#scope,
      sessionId: this.#sessionId,
      similarityThreshold: this.#threshold,
      lookups,
      hits: this.#hits,
      misses: this.#misses,
      hitRate: lookups === 0 ? 0 : this.#hits / lookups,
      emptyMisses: this.#emptyMisses,
      raceMisses: this.#raceMisses,
      hitSimilarity: this.#similarities.hitSummary(),
      missSimilarity: this.#similarities.missSummary(),
      similarityHistogram: this.#similarities.histogram(),
      sets: this.#sets,
      evictions: this.#evictions,
      backendErrors: this.#backend.counter.snapshot(),
      staleSets: this.#staleSets,
      invalidated: this.#invalidated,
      storedEntries,
      storedUrls,
    };
  }

  /** Zeroes this instance's counters (stored entries are untouched). */
  resetStats(): void {
    this.#hits = 0;
    this.#misses = 0;
    this.#emptyMisses = 0;
    this.#raceMisses = 0;
    this.#sets = 0;
    this.#evictions = 0;
    this.#staleSets = 0;
    this.#invalidated = 0;
    this.#similarities.reset();
    this.#backend.counter.reset();
  }
}

function checkLogger(logger: unknown): void {
  if (logger !== undefined && (logger === null || typeof logger !== 'object')) {
    throw new SemanticCacheError('INVALID_OPTION', 'logger must be an object with optional debug/info/warn/error methods.');
  }
}
