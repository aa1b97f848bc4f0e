import type { KVDriver } from '@lix/redis-pool';
import { METRICS, type Telemetry, resolveTelemetry, type Attributes, type CounterLike, type HistogramLike, type TelemetrySetting } from '@lix/telemetry';
import { SimilarityTracker } from './stats.js';

/**
 * The OpenTelemetry side of one `SemanticCache`: instruments are shared by every cache
 * of the same provider (they are created once per `Telemetry`), attributes name the
 * scope kind only (never the session id, which would explode metric cardinality; spans
 * carry it). Disabled (no API, no SDK given, or `telemetry: false`), every method is a
 * plain call-through.
 */
export class CacheTelemetry {
  readonly enabled: boolean;
  readonly #telemetry: Telemetry;
  readonly #attributes: Attributes;
  readonly #spanAttributes: Attributes;
  readonly #hits: CounterLike;
  readonly #misses: CounterLike;
  readonly #backendErrors: CounterLike;
  readonly #evictions: CounterLike;
  readonly #invalidated: CounterLike;
  readonly #staleSets: CounterLike;
  readonly #lookupDuration: HistogramLike;
  readonly #setDuration: HistogramLike;
  readonly #invalidateDuration: HistogramLike;
  readonly #similarity: HistogramLike;

  constructor(setting: TelemetrySetting | undefined, scope: string, sessionId: string) {
    this.#telemetry = resolveTelemetry(setting, '@lix/semantic-cache');
    this.enabled = this.#telemetry.enabled;
    const t = this.#telemetry;
    this.#attributes = { 'lix.semantic_cache.scope': scope };
    this.#spanAttributes = { 'lix.semantic_cache.scope': scope, 'lix.session.id': sessionId };
    this.#hits = t.counter(METRICS.semanticCacheHits.name, METRICS.semanticCacheHits);
    this.#misses = t.counter(METRICS.semanticCacheMisses.name, METRICS.semanticCacheMisses);
    this.#backendErrors = t.counter(METRICS.semanticCacheBackendErrors.name, METRICS.semanticCacheBackendErrors);
    this.#evictions = t.counter(METRICS.semanticCacheEvictions.name, METRICS.semanticCacheEvictions);
    this.#invalidated = t.counter(METRICS.semanticCacheInvalidated.name, METRICS.semanticCacheInvalidated);
    this.#staleSets = t.counter(METRICS.semanticCacheStaleSets.name, METRICS.semanticCacheStaleSets);
    this.#lookupDuration = t.histogram(METRICS.semanticCacheLookupDuration.name, METRICS.semanticCacheLookupDuration);
    this.#setDuration = t.histogram(METRICS.semanticCacheSetDuration.name, METRICS.semanticCacheSetDuration);
    this.#invalidateDuration = t.histogram(METRICS.semanticCacheInvalidateDuration.name, METRICS.semanticCacheInvalidateDuration);
    this.#similarity = t.histogram(METRICS.semanticCacheSimilarity.name, METRICS.semanticCacheSimilarity);
  }

  /** A similarity tracker that also reports each best similarity as a histogram. */
  similarityTracker(): SimilarityTracker {
    if (!this.enabled) return new SimilarityTracker();
    const histogram = this.#similarity;
    const hit = { ...this.#attributes, 'lix.semantic_cache.outcome': 'hit' };
    const miss = { ...this.#attributes, 'lix.semantic_cache.outcome': 'miss' };
    return new (class extends SimilarityTracker {
      override record(similarity: number, isHit: boolean): void {
        super.record(similarity, isHit);
        // OpenTelemetry histograms take non-negative values only; below 0 nothing is near a threshold anyway.
        histogram.record(Math.max(similarity, 0), isHit ? hit : miss);
      }
    })();
  }

  /**
   * The cache's driver, with each rejected command counted as a backend error (by
   * command) whatever the cache then does with the failure. The driver itself when disabled.
   */
  observeDriver(driver: KVDriver): KVDriver {
    if (!this.enabled) return driver;
    const counter = this.#backendErrors;
    const attributes = this.#attributes;
    const telemetry = this.#telemetry;
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(driver, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== 'function' || property === 'scan' || property === 'batch') return typeof value === 'function' ? value.bind(target) : value;
        let fn = wrapped.get(property);
        if (fn === undefined) {
          const original = value as (...args: unknown[]) => unknown;
          fn = (...args: unknown[]) => {
            const result = original.apply(target, args);
            if (!telemetry.active()) return result;
            if (result instanceof Promise) {
              return result.catch((error: unknown) => {
                counter.add(1, { ...attributes, 'lix.operation': String(property) });
                throw error;
              });
            }
            return result;
          };
          wrapped.set(property, fn);
        }
        return fn;
      },
    });
  }

  /** Runs a lookup in a `lix.semantic_cache.lookup` span and counts its outcome. */
  lookup<T>(operation: () => Promise<T | null>): Promise<T | null> {
    if (!this.#telemetry.active()) return operation();
    const start = performance.now();
    return this.#telemetry.run('lix.semantic_cache.lookup', this.#spanAttributes, undefined, async (span) => {
      let outcome = 'error';
      try {
        const result = await operation();
        outcome = result === null ? 'miss' : 'hit';
        (result === null ? this.#misses : this.#hits).add(1, this.#attributes);
        span?.setAttribute('lix.semantic_cache.outcome', outcome);
        return result;
      } finally {
        this.#lookupDuration.record((performance.now() - start) / 1000, { ...this.#attributes, 'lix.semantic_cache.outcome': outcome });
      }
    });
  }

  /** Runs a write in a `lix.semantic_cache.set` span. */
  set<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#telemetry.active()) return operation();
    return this.#telemetry.run('lix.semantic_cache.set', this.#spanAttributes, this.#setDuration, () => operation());
  }

  /** Runs an invalidation in a `lix.semantic_cache.invalidate` span. */
  invalidate<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#telemetry.active()) return operation();
    return this.#telemetry.run('lix.semantic_cache.invalidate', this.#spanAttributes, this.#invalidateDuration, () => operation());
  }

  evicted(count: number): void {
    if (count > 0) this.#evictions.add(count, this.#attributes);
  }

  invalidated(count: number): void {
    if (count > 0) this.#invalidated.add(count, this.#attributes);
  }

  staleSet(): void {
    this.#staleSets.add(1, this.#attributes);
  }
}
