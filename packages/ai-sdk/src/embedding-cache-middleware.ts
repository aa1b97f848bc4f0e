import type { EmbeddingModelV3, EmbeddingModelV3Middleware, EmbeddingModelV3Result } from '@ai-sdk/provider';
import { showValue } from '@lix/core';
import { UrlEmbeddingCache, type UrlEmbeddingCacheOptions } from '@lix/semantic-cache';
import type { KVDriver, Logger } from '@lix/redis-pool';
import { AiSdkCacheError, checkOptionKeys } from './errors.js';
import { canonicalJson, digest } from './fingerprint.js';
import { withTimeout } from './timeout.js';

/** Options of {@link embeddingCacheMiddleware}. */
export interface EmbeddingCacheMiddlewareOptions {
  /** Any driver of `@lix/redis-pool`. Not closed by the middleware. */
  driver: KVDriver;
  /**
   * The model id in every key (default `provider:modelId` of the wrapped model, plus a
   * hash of the call's `providerOptions`, which can change dimensions). Switching models
   * never serves another model's vectors.
   */
  modelId?: string | ((model: EmbeddingModelV3) => string);
  /** First key segment (default `lix`). */
  keyPrefix?: string;
  /** How long an embedding lives (default 24 h). */
  ttlMs?: number;
  /** Budget of the cache read and of the write, in ms (default 2000); past it the values are embedded by the model. */
  timeoutMs?: number;
  /** Receives diagnostics (backend failures as warnings); nothing is printed otherwise. */
  logger?: Logger;
}

/** Counters of one embedding middleware. */
export interface EmbeddingCacheMiddlewareStats {
  /** Values looked up (a batch of n counts n). */
  lookups: number;
  hits: number;
  misses: number;
  /** Values sent to the model (misses, each distinct text once per call). */
  embedded: number;
  /** Backend or timeout failures (the values were embedded by the model instead). */
  failures: number;
}

/** The middleware, plus its counters. Pass it to `wrapEmbeddingModel({ model, middleware })`. */
export interface EmbeddingCacheMiddleware extends EmbeddingModelV3Middleware {
  getStats(): EmbeddingCacheMiddlewareStats;
  resetStats(): void;
}

const OPTION_KEYS = ['driver', 'modelId', 'keyPrefix', 'ttlMs', 'timeoutMs', 'logger'] as const;
const MAX_CACHED_MODELS = 256;

/** The cache key of one input text: its hash, so keys stay short and carry no user text. */
export function embeddingTextKey(text: string): string {
  return `text:${digest(text)}`;
}

/**
 * An embedding-model middleware over `@lix/semantic-cache`'s `UrlEmbeddingCache`, keyed by
 * model id and the hash of each input text: one MGET looks the whole batch up, only the
 * misses (each distinct text once) go to the model, and their vectors are written back in
 * one pipelined round trip. Cached vectors come back as float32 values (the cache's
 * storage format). Fails open: a Redis failure means every value goes to the model.
 */
export function embeddingCacheMiddleware(options: EmbeddingCacheMiddlewareOptions): EmbeddingCacheMiddleware {
  if (options === null || typeof options !== 'object') throw new AiSdkCacheError('INVALID_OPTION', 'embeddingCacheMiddleware needs an options object.');
  checkOptionKeys('embeddingCacheMiddleware', options, OPTION_KEYS);
  const modelIdOption = options.modelId;
  if (modelIdOption !== undefined && typeof modelIdOption !== 'function' && (typeof modelIdOption !== 'string' || modelIdOption === '')) {
    throw new AiSdkCacheError('INVALID_OPTION', 'embeddingCacheMiddleware: modelId must be a non-empty string or a function of the model.');
  }
  const timeoutMs = options.timeoutMs ?? 2000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) {
    throw new AiSdkCacheError(
      'INVALID_OPTION',
      `embeddingCacheMiddleware: timeoutMs must be a whole number of ms from 1 to 600000, got ${showValue(timeoutMs)}.`,
    );
  }
  const logger = options.logger;
  const base: Omit<UrlEmbeddingCacheOptions, 'modelId'> = {
    driver: options.driver,
    // The middleware is the fail-open layer: it bounds, logs and counts backend failures itself.
    onBackendError: 'throw',
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
    ...(logger === undefined ? {} : { logger }),
  };
  try {
    // Validates driver, prefix and TTL now rather than on the first call.
    new UrlEmbeddingCache({ ...base, modelId: 'validate' });
  } catch (error) {
    throw new AiSdkCacheError('INVALID_OPTION', `embeddingCacheMiddleware: ${(error as Error).message}`, { cause: error });
  }
  const caches = new Map<string, UrlEmbeddingCache>();
  const cacheFor = (modelId: string): UrlEmbeddingCache => {
    let cache = caches.get(modelId);
    if (cache === undefined) {
      cache = new UrlEmbeddingCache({ ...base, modelId });
      if (caches.size >= MAX_CACHED_MODELS) caches.clear();
      caches.set(modelId, cache);
    }
    return cache;
  };
  const stats: EmbeddingCacheMiddlewareStats = { lookups: 0, hits: 0, misses: 0, embedded: 0, failures: 0 };
  const fail = (message: string, error: unknown): void => {
    stats.failures++;
    logger?.warn?.(`ai-sdk: ${message}; the values are embedded by the model`, { error });
  };

  return {
    specificationVersion: 'v3',

    async wrapEmbed({ doEmbed, params, model }): Promise<EmbeddingModelV3Result> {
      const values = params.values;
      if (!Array.isArray(values) || values.length === 0) return doEmbed();
      let cache: UrlEmbeddingCache;
      let keys: string[];
      try {
        const baseId = typeof modelIdOption === 'function' ? modelIdOption(model) : (modelIdOption ?? `${model.provider}:${model.modelId}`);
        const modelId = params.providerOptions === undefined ? baseId : `${baseId}#${digest(canonicalJson(params.providerOptions)).slice(0, 12)}`;
        cache = cacheFor(modelId);
        keys = values.map((value) => embeddingTextKey(value));
      } catch (error) {
        fail('could not derive the embedding cache keys', error);
        return doEmbed();
      }
      stats.lookups += values.length;
      let cached: Array<Float32Array | null>;
      try {
        cached = await withTimeout(cache.batchGet(keys), timeoutMs, 'embedding cache read');
      } catch (error) {
        stats.misses += values.length;
        fail('embedding cache read failed', error);
        return doEmbed();
      }
      const embeddings: Array<number[] | undefined> = cached.map((vector) => (vector === null ? undefined : Array.from(vector)));
      // Each distinct missing text is embedded once, however often it repeats in the batch.
      const missing = new Map<string, number[]>();
      embeddings.forEach((vector, index) => {
        if (vector !== undefined) return;
        const list = missing.get(values[index]!);
        if (list === undefined) missing.set(values[index]!, [index]);
        else list.push(index);
      });
      const hitCount = values.length - [...missing.values()].reduce((sum, list) => sum + list.length, 0);
      stats.hits += hitCount;
      stats.misses += values.length - hitCount;
      if (missing.size === 0) {
        return { embeddings: embeddings as number[][], usage: { tokens: 0 }, providerMetadata: { lix: { hits: hitCount, misses: 0 } }, warnings: [] };
      }
      const missTexts = [...missing.keys()];
      const result = missTexts.length === values.length ? await doEmbed() : await model.doEmbed({ ...params, values: missTexts });
      stats.embedded += missTexts.length;
      if (!Array.isArray(result.embeddings) || result.embeddings.length !== missTexts.length) {
        throw new AiSdkCacheError(
          'INVALID_ARGUMENT',
          `the embedding model returned ${String(result.embeddings?.length)} embeddings for ${missTexts.length} values.`,
        );
      }
      const toWrite: Array<[string, number[]]> = [];
      missTexts.forEach((text, position) => {
        const vector = result.embeddings[position]!;
        for (const index of missing.get(text)!) embeddings[index] = vector;
        toWrite.push([embeddingTextKey(text), vector]);
      });
      try {
        await withTimeout(cache.batchSet(toWrite), timeoutMs, 'embedding cache write');
      } catch (error) {
        fail('embedding cache write failed', error);
      }
      return {
        ...result,
        embeddings: embeddings as number[][],
        providerMetadata: { ...result.providerMetadata, lix: { hits: hitCount, misses: values.length - hitCount } },
      };
    },

    getStats(): EmbeddingCacheMiddlewareStats {
      return { ...stats };
    },

    resetStats(): void {
      for (const key of Object.keys(stats) as (keyof EmbeddingCacheMiddlewareStats)[]) stats[key] = 0;
    },
  };
}
