import { TelemetryError } from './errors.js';
import { checkOptionKeys } from './driver.js';
import { METRICS } from './metric-names.js';
import { instrumentMethods, type MethodSpec } from './proxy.js';
import { resolveTelemetry, type TelemetrySetting } from './telemetry.js';

/** Options of {@link instrumentSessionWindow} and {@link instrumentUrlEmbeddingCache}. */
export interface InstrumentLayerOptions {
  /** Where to report (default: the global OpenTelemetry API when installed). */
  telemetry?: TelemetrySetting;
}

const OPTION_KEYS = new Set(['telemetry']);
const WINDOW_METHODS = ['addMessage', 'getContext', 'getFormattedContext', 'clear', 'getStats', 'close'];
const URL_METHODS = ['get', 'set', 'batchGet', 'batchSet'];

/** The structural part of a session window (`HybridConversationCache` or any `SessionWindowLayer`). */
export interface SessionWindowLike {
  addMessage(...args: never[]): Promise<unknown>;
  getContext(): Promise<unknown>;
}

/** The structural part of a `UrlEmbeddingCache`. */
export interface UrlEmbeddingCacheLike {
  get(url: string): Promise<unknown>;
  batchGet?(urls: readonly string[]): Promise<unknown>;
}

/**
 * A session window that reports a span per public call (`lix.session_window.<method>`)
 * and `lix.session_window.operation.duration`. Rebuilds are counted on the archive the
 * windows read ({@link instrumentArchiveStore} with `countWindowRebuilds`). Returns
 * `window` itself when telemetry is off or OpenTelemetry is not installed.
 */
export function instrumentSessionWindow<W extends SessionWindowLike>(window: W, options?: InstrumentLayerOptions): W {
  checkOptionKeys(options, OPTION_KEYS, 'instrumentSessionWindow');
  if (window === null || typeof window !== 'object' || typeof window.addMessage !== 'function' || typeof window.getContext !== 'function') {
    throw new TelemetryError('INVALID_TARGET', 'instrumentSessionWindow needs a session window (addMessage, getContext).');
  }
  const telemetry = resolveTelemetry(options?.telemetry, '@lix/session-window');
  if (!telemetry.enabled) return window;
  const duration = telemetry.histogram(METRICS.sessionWindowOperationDuration.name, METRICS.sessionWindowOperationDuration);
  const specs: Record<string, MethodSpec> = {};
  for (const method of WINDOW_METHODS) specs[method] = { span: `lix.session_window.${method}`, duration, attributes: { 'lix.operation': method } };
  return instrumentMethods(window, telemetry, specs);
}

/**
 * A URL embedding cache that reports a span per call (`lix.url_embedding_cache.<method>`),
 * `lix.url_embedding_cache.operation.duration`, and hits and misses per URL (a
 * `batchGet` of n URLs counts n). Returns `cache` itself when telemetry is off or
 * OpenTelemetry is not installed.
 */
export function instrumentUrlEmbeddingCache<C extends UrlEmbeddingCacheLike>(cache: C, options?: InstrumentLayerOptions): C {
  checkOptionKeys(options, OPTION_KEYS, 'instrumentUrlEmbeddingCache');
  if (cache === null || typeof cache !== 'object' || typeof cache.get !== 'function') {
    throw new TelemetryError('INVALID_TARGET', 'instrumentUrlEmbeddingCache needs a UrlEmbeddingCache (get, set, batchGet, batchSet).');
  }
  const telemetry = resolveTelemetry(options?.telemetry, '@lix/semantic-cache');
  if (!telemetry.enabled) return cache;
  const duration = telemetry.histogram(METRICS.urlCacheOperationDuration.name, METRICS.urlCacheOperationDuration);
  const hits = telemetry.counter(METRICS.urlCacheHits.name, METRICS.urlCacheHits);
  const misses = telemetry.counter(METRICS.urlCacheMisses.name, METRICS.urlCacheMisses);
  const count = (values: unknown[]) => {
    let found = 0;
    for (const value of values) if (value !== null && value !== undefined) found++;
    if (found > 0) hits.add(found);
    if (values.length - found > 0) misses.add(values.length - found);
  };
  const specs: Record<string, MethodSpec> = {};
  for (const method of URL_METHODS) specs[method] = { span: `lix.url_embedding_cache.${method}`, duration, attributes: { 'lix.operation': method } };
  specs.get!.after = (result) => count([result]);
  specs.batchGet!.after = (result) => {
    if (Array.isArray(result)) count(result);
  };
  return instrumentMethods(cache, telemetry, specs);
}
