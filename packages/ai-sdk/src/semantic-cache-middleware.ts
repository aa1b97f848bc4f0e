import { showValue } from '@lix/core';
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3Middleware,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider';
import { DEFAULT_MAX_RESPONSE_BYTES, SemanticCache, type SemanticCacheOptions, type SemanticCacheScope } from '@lix/semantic-cache';
import { systemClock, type Clock, type KVDriver, type Logger } from '@lix/redis-pool';
import { embed, simulateReadableStream, type EmbeddingModel } from 'ai';
import {
  StreamRecorder,
  generateResultFromRecord,
  isCachedResponseRecord,
  recordFromGenerate,
  streamPartsFromRecord,
  type CachedResponseRecord,
} from './cached-response.js';
import { AiSdkCacheError, checkOptionKeys } from './errors.js';
import { LIX_PROVIDER_OPTIONS_KEY, defaultFingerprint, digest, historyFingerprint, lastUserMessageText } from './fingerprint.js';
import { withTimeout } from './timeout.js';

/** Default budget of one embedding call plus cache lookup, after which the call is a miss. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 2000;
/** Default budget of one cache write, after which it is abandoned (logged). */
export const DEFAULT_STORE_TIMEOUT_MS = 2000;

/** Settings of `@lix/semantic-cache` passed through to every {@link SemanticCache} the middleware creates. */
export type SemanticCachePassThroughOptions = Omit<SemanticCacheOptions, 'driver' | 'sessionId' | 'scope' | 'logger' | 'clock'>;

/** Options of {@link semanticCacheMiddleware}. */
export interface SemanticCacheMiddlewareOptions {
  /** Any driver of `@lix/redis-pool` (ioredis, node-redis, in-memory). Not closed by the middleware. */
  driver: KVDriver;
  /** The AI SDK embedding model that embeds each query (called through `embed` from `ai`, without retries). */
  embeddingModel: EmbeddingModel;
  /**
   * `'session'` (default): a session only sees its own answers; each call needs a session id
   * (the `sessionId` option, or `providerOptions.lix.sessionId` on the call), and a call
   * without one is not cached. `'shared'`: every caller with this key prefix shares one
   * pool per fingerprint (cross-user hits; opt in knowingly).
   */
  scope?: SemanticCacheScope;
  /** The session of every call, or a function of the call's parameters; `providerOptions.lix.sessionId` wins. */
  sessionId?: string | ((params: LanguageModelV3CallOptions) => string | undefined);
  /** Settings of the semantic cache: `similarityThreshold`, `ttlMs`, `keyPrefix`, `maxItemsPerUrl`, `maxResponseBytes`, … */
  cacheOptions?: SemanticCachePassThroughOptions;
  /**
   * Replaces the default hard partition ({@link defaultFingerprint}); two calls can only
   * share an answer when this returns the same string. Compose with `defaultFingerprint`
   * to add to it (a tenant id, a prompt version).
   */
  fingerprint?: (params: LanguageModelV3CallOptions, model: LanguageModelV3) => string;
  /** Also partition by the earlier turns of the conversation (default false: only the last user message counts). */
  includeHistory?: boolean;
  /** The text that is embedded (default: the last message's text when it is a user message); `undefined` skips the cache. */
  queryText?: (params: LanguageModelV3CallOptions) => string | undefined;
  /** Return true to bypass the cache for a call (neither read nor written). */
  skip?: (params: LanguageModelV3CallOptions) => boolean;
  /** Concurrent identical misses (same session, fingerprint and query text) call the model once (default false). */
  singleFlight?: boolean;
  /** Budget of embedding + lookup in ms; past it the call is a miss (default 2000). */
  lookupTimeoutMs?: number;
  /** Budget of one cache write in ms (default 2000). */
  storeTimeoutMs?: number;
  /** Delay between replayed stream parts on a hit, in ms (default `null`: as fast as the consumer reads). */
  replayChunkDelayMs?: number | null;
  /** Receives diagnostics (every backend failure as a warning); nothing is printed otherwise. */
  logger?: Logger;
  /** Time source of entry expiry and `storedAtMs` (default `Date.now`). */
  clock?: Clock;
}

/** Counters of one middleware instance. */
export interface SemanticCacheMiddlewareStats {
  /** Calls that looked the cache up. */
  lookups: number;
  hits: number;
  misses: number;
  /** Calls not cached at all: `skip`, no query text, no session id. */
  bypassed: number;
  /** Answers written to the cache. */
  stores: number;
  /** Answers not written because they were not complete text (tool calls, truncation, errors, aborts). */
  notCacheable: number;
  /** Callers served by another caller's in-flight model call (`singleFlight`). */
  singleFlightJoins: number;
  /** Backend, embedding or timeout failures that turned into a miss (or an unwritten answer). */
  failures: number;
}

/** The middleware, plus its counters. Pass it to `wrapLanguageModel({ model, middleware })`. */
export interface SemanticCacheMiddleware extends LanguageModelV3Middleware {
  /** Counters since creation or {@link resetStats}. */
  getStats(): SemanticCacheMiddlewareStats;
  /** Zeroes the counters. */
  resetStats(): void;
}

const OPTION_KEYS = [
  'driver',
  'embeddingModel',
  'scope',
  'sessionId',
  'cacheOptions',
  'fingerprint',
  'includeHistory',
  'queryText',
  'skip',
  'singleFlight',
  'lookupTimeoutMs',
  'storeTimeoutMs',
  'replayChunkDelayMs',
  'logger',
  'clock',
] as const;

/**
 * Keys of `cacheOptions` handed to `SemanticCache`. Listed here because `SemanticCache`
 * itself ignores unknown keys, and a typo (`similarityTreshold`) must not silently fall
 * back to the default threshold. A new `SemanticCache` option is added here.
 */
export const SEMANTIC_CACHE_PASS_THROUGH_KEYS: readonly string[] = ['keyPrefix', 'ttlMs', 'similarityThreshold', 'maxItemsPerUrl', 'maxResponseBytes'];

/** Session id used for the cache instance of the shared scope (the semantic cache ignores it there). */
const SHARED_SESSION = 'shared';
/** Cache instances kept per middleware (one per session); the map is simply emptied when full. */
const MAX_CACHED_SESSIONS = 4096;

interface Prepared {
  cache: SemanticCache<CachedResponseRecord>;
  partition: string;
  text: string;
  flightKey: string;
}

type Flight = Promise<CachedResponseRecord | undefined>;

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new AiSdkCacheError('INVALID_OPTION', `semanticCacheMiddleware: ${name} must be a function.`);
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 600_000) {
    throw new AiSdkCacheError('INVALID_OPTION', `semanticCacheMiddleware: ${name} must be a whole number of ms from 1 to 600000, got ${showValue(value)}.`);
  }
  return value;
}

function lixCallOptions(params: LanguageModelV3CallOptions): { sessionId?: unknown; skip?: unknown } | undefined {
  const lix = params.providerOptions?.[LIX_PROVIDER_OPTIONS_KEY];
  return lix !== null && typeof lix === 'object' ? lix : undefined;
}

/**
 * A language-model middleware that answers a question from `@lix/semantic-cache` when
 * a similar one (cosine similarity of the query embeddings at or above the threshold)
 * was answered before under the same hard partition: scope + fingerprint (model,
 * system prompt, tools, settings; see {@link defaultFingerprint}).
 *
 * - generate: a hit returns the stored content, usage zeroed, with
 *   `providerMetadata.lix = { hit: true, similarity }`; a miss calls the model and stores
 *   the result only when it is text that finished with `stop`.
 * - stream: a hit replays the stored parts; a miss passes every part through as it
 *   arrives and stores them only when the stream finished with `stop` (an aborted or
 *   failed stream stores nothing).
 * - Fails open: an embedding, Redis or timeout failure is a miss (logged, counted), never
 *   a failed call.
 */
export function semanticCacheMiddleware(options: SemanticCacheMiddlewareOptions): SemanticCacheMiddleware {
  if (options === null || typeof options !== 'object') throw new AiSdkCacheError('INVALID_OPTION', 'semanticCacheMiddleware needs an options object.');
  checkOptionKeys('semanticCacheMiddleware', options, OPTION_KEYS);
  if (options.embeddingModel === undefined || options.embeddingModel === null) {
    throw new AiSdkCacheError(
      'INVALID_OPTION',
      'semanticCacheMiddleware: embeddingModel is required (an AI SDK embedding model, e.g. openai.embedding("text-embedding-3-small")).',
    );
  }
  const scope = options.scope ?? 'session';
  if (scope !== 'session' && scope !== 'shared')
    throw new AiSdkCacheError('INVALID_OPTION', `semanticCacheMiddleware: scope must be 'session' or 'shared', got ${showValue(scope)}.`);
  const sessionOption = options.sessionId;
  if (sessionOption !== undefined && typeof sessionOption !== 'function' && (typeof sessionOption !== 'string' || sessionOption === '')) {
    throw new AiSdkCacheError('INVALID_OPTION', 'semanticCacheMiddleware: sessionId must be a non-empty string or a function of the call parameters.');
  }
  for (const name of ['fingerprint', 'queryText', 'skip'] as const) checkFunction(name, options[name]);
  if (options.cacheOptions !== undefined) {
    if (options.cacheOptions === null || typeof options.cacheOptions !== 'object')
      throw new AiSdkCacheError('INVALID_OPTION', 'semanticCacheMiddleware: cacheOptions must be an object.');
    checkOptionKeys('semanticCacheMiddleware cacheOptions', options.cacheOptions, SEMANTIC_CACHE_PASS_THROUGH_KEYS);
  }
  const replayDelay = options.replayChunkDelayMs ?? null;
  if (replayDelay !== null && (typeof replayDelay !== 'number' || !Number.isFinite(replayDelay) || replayDelay < 0)) {
    throw new AiSdkCacheError('INVALID_OPTION', 'semanticCacheMiddleware: replayChunkDelayMs must be null or a number of ms >= 0.');
  }
  const lookupTimeoutMs = checkTimeout('lookupTimeoutMs', options.lookupTimeoutMs, DEFAULT_LOOKUP_TIMEOUT_MS);
  const storeTimeoutMs = checkTimeout('storeTimeoutMs', options.storeTimeoutMs, DEFAULT_STORE_TIMEOUT_MS);
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const embeddingModel = options.embeddingModel;
  const queryText = options.queryText ?? lastUserMessageText;
  const singleFlight = options.singleFlight === true;
  const includeHistory = options.includeHistory === true;
  // A stream longer than the cache would accept is not held in memory to the end only to be refused.
  const maxRecordedChars = options.cacheOptions?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

  const makeCache = (sessionId: string): SemanticCache<CachedResponseRecord> =>
    new SemanticCache<CachedResponseRecord>({
      ...options.cacheOptions,
      driver: options.driver,
      sessionId,
      scope,
      clock,
      // The middleware is the fail-open layer: it bounds, logs and counts backend failures itself.
      onBackendError: 'throw',
      ...(logger === undefined ? {} : { logger }),
    });
  const caches = new Map<string, SemanticCache<CachedResponseRecord>>();
  try {
    // Built once up front so that a bad driver or cache option fails here, not on the first call.
    caches.set(SHARED_SESSION, makeCache(SHARED_SESSION));
  } catch (error) {
    throw new AiSdkCacheError('INVALID_OPTION', `semanticCacheMiddleware: ${(error as Error).message}`, { cause: error });
  }
  const cacheFor = (sessionId: string): SemanticCache<CachedResponseRecord> => {
    let cache = caches.get(sessionId);
    if (cache === undefined) {
      cache = makeCache(sessionId);
      if (caches.size >= MAX_CACHED_SESSIONS) caches.clear();
      caches.set(sessionId, cache);
    }
    return cache;
  };

  const flights = new Map<string, Flight>();
  const stats: SemanticCacheMiddlewareStats = { lookups: 0, hits: 0, misses: 0, bypassed: 0, stores: 0, notCacheable: 0, singleFlightJoins: 0, failures: 0 };
  let warnedNoSession = false;

  const fail = (message: string, error: unknown, context: Record<string, unknown> = {}): void => {
    stats.failures++;
    logger?.warn?.(`ai-sdk: ${message}; the call goes on without the cache`, { ...context, error });
  };

  const sessionOf = (params: LanguageModelV3CallOptions): string | undefined => {
    if (scope === 'shared') return SHARED_SESSION;
    const fromCall = lixCallOptions(params)?.sessionId;
    if (typeof fromCall === 'string' && fromCall !== '') return fromCall;
    const fromOption = typeof sessionOption === 'function' ? sessionOption(params) : sessionOption;
    return typeof fromOption === 'string' && fromOption !== '' ? fromOption : undefined;
  };

  /** Everything a lookup needs, or `undefined` when this call bypasses the cache. */
  const prepare = (params: LanguageModelV3CallOptions, model: LanguageModelV3): Prepared | undefined => {
    try {
      if (lixCallOptions(params)?.skip === true || options.skip?.(params) === true) return bypass();
      const text = queryText(params);
      if (typeof text !== 'string' || text.trim() === '') return bypass();
      const sessionId = sessionOf(params);
      if (sessionId === undefined) {
        if (!warnedNoSession) {
          warnedNoSession = true;
          logger?.warn?.(
            "ai-sdk: scope 'session' but the call has no session id (set the sessionId option or providerOptions.lix.sessionId); such calls are not cached",
          );
        }
        return bypass();
      }
      let fingerprint = options.fingerprint === undefined ? defaultFingerprint(params, model) : options.fingerprint(params, model);
      if (typeof fingerprint !== 'string') throw new TypeError(`fingerprint() returned ${typeof fingerprint}, not a string`);
      if (includeHistory) fingerprint = `${fingerprint}|${historyFingerprint(params.prompt)}`;
      const partition = `ai-sdk:${fingerprint.length > 64 ? digest(fingerprint) : fingerprint}`;
      const cache = cacheFor(sessionId);
      return { cache, partition, text, flightKey: `${sessionId}\u0000${partition}\u0000${text}` };
    } catch (error) {
      fail('could not derive the cache key of the call', error);
      return undefined;
    }
  };

  function bypass(): undefined {
    stats.bypassed++;
    return undefined;
  }

  const lookup = async (
    prepared: Prepared,
    params: LanguageModelV3CallOptions,
  ): Promise<{ embedding: number[]; hit: { record: CachedResponseRecord; similarity: number } | null } | undefined> => {
    stats.lookups++;
    try {
      const found = await withTimeout(
        (async () => {
          const { embedding } = await embed({
            model: embeddingModel,
            value: prepared.text,
            maxRetries: 0,
            ...(params.abortSignal === undefined ? {} : { abortSignal: params.abortSignal }),
          });
          const hit = await prepared.cache.lookup(prepared.partition, embedding);
          return { embedding, hit };
        })(),
        lookupTimeoutMs,
        'embedding and cache lookup',
      );
      if (found.hit !== null && isCachedResponseRecord(found.hit.response)) {
        stats.hits++;
        return { embedding: found.embedding, hit: { record: found.hit.response, similarity: found.hit.similarity } };
      }
      stats.misses++;
      return { embedding: found.embedding, hit: null };
    } catch (error) {
      stats.misses++;
      // A caller's own abort is not a cache failure; the model call that follows reports it.
      if (params.abortSignal?.aborted !== true) fail('semantic cache lookup failed', error, { partition: prepared.partition });
      return undefined;
    }
  };

  const store = async (prepared: Prepared, embedding: number[] | undefined, record: CachedResponseRecord | undefined): Promise<void> => {
    if (record === undefined) {
      stats.notCacheable++;
      return;
    }
    if (embedding === undefined) return;
    try {
      await withTimeout(prepared.cache.set(prepared.partition, embedding, record), storeTimeoutMs, 'cache write');
      stats.stores++;
    } catch (error) {
      fail('semantic cache write failed', error, { partition: prepared.partition });
    }
  };

  /**
   * With single-flight on: the in-flight call for this key to wait for, or else this
   * caller becomes its leader and gets the function that releases the followers. Check
   * and registration happen in one synchronous step, so two callers cannot both lead.
   */
  const joinOrLead = (prepared: Prepared): { flight: Flight } | { settle: (record: CachedResponseRecord | undefined) => void } => {
    if (!singleFlight) return { settle: () => undefined };
    const running = flights.get(prepared.flightKey);
    if (running !== undefined) return { flight: running };
    let release!: (record: CachedResponseRecord | undefined) => void;
    const flight: Flight = new Promise((resolve) => {
      release = resolve;
    });
    flights.set(prepared.flightKey, flight);
    let settled = false;
    return {
      settle: (record) => {
        if (settled) return;
        settled = true;
        if (flights.get(prepared.flightKey) === flight) flights.delete(prepared.flightKey);
        release(record);
      },
    };
  };

  /**
   * Looks the cache up (joining an identical in-flight call first, when single-flight is
   * on) and resolves with either the answer to serve or what a miss needs.
   */
  const resolveCall = async (
    prepared: Prepared,
    params: LanguageModelV3CallOptions,
  ): Promise<
    { served: CachedResponseRecord; similarity: number } | { embedding: number[] | undefined; settle: (record: CachedResponseRecord | undefined) => void }
  > => {
    const before = singleFlight ? flights.get(prepared.flightKey) : undefined;
    if (before !== undefined) {
      const record = await before;
      if (record !== undefined) {
        stats.singleFlightJoins++;
        return { served: record, similarity: 1 };
      }
    }
    const found = await lookup(prepared, params);
    if (found?.hit) return { served: found.hit.record, similarity: found.hit.similarity };
    for (;;) {
      const role = joinOrLead(prepared);
      if ('settle' in role) return { embedding: found?.embedding, settle: role.settle };
      const record = await role.flight;
      if (record !== undefined) {
        stats.singleFlightJoins++;
        return { served: record, similarity: 1 };
      }
      // The leader's answer was not cacheable (or it failed): take a turn at leading.
    }
  };

  const replay = (record: CachedResponseRecord, similarity: number): LanguageModelV3StreamResult => ({
    stream: simulateReadableStream<LanguageModelV3StreamPart>({
      chunks: streamPartsFromRecord(record, similarity),
      initialDelayInMs: null,
      chunkDelayInMs: replayDelay,
    }),
  });

  return {
    specificationVersion: 'v3',

    async wrapGenerate({ doGenerate, params, model }): Promise<LanguageModelV3GenerateResult> {
      const prepared = prepare(params, model);
      if (prepared === undefined) return doGenerate();
      const call = await resolveCall(prepared, params);
      if ('served' in call) return generateResultFromRecord(call.served, call.similarity);
      let record: CachedResponseRecord | undefined;
      try {
        const result = await doGenerate();
        record = params.abortSignal?.aborted === true ? undefined : recordFromGenerate(result, clock.now());
        await store(prepared, call.embedding, record);
        return result;
      } finally {
        call.settle(record);
      }
    },

    async wrapStream({ doStream, params, model }): Promise<LanguageModelV3StreamResult> {
      const prepared = prepare(params, model);
      if (prepared === undefined) return doStream();
      const call = await resolveCall(prepared, params);
      if ('served' in call) return replay(call.served, call.similarity);
      const { settle, embedding } = call;
      let result: LanguageModelV3StreamResult;
      try {
        result = await doStream();
      } catch (error) {
        settle(undefined);
        throw error;
      }
      const reader = result.stream.getReader();
      const recorder = new StreamRecorder(maxRecordedChars);
      // A pull-driven stream (not a TransformStream) so that cancellation by the consumer
      // is seen here on every Node version: followers are released and nothing is stored.
      const stream = new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            settle(undefined);
            controller.error(error);
            return;
          }
          if (!next.done) {
            controller.enqueue(next.value);
            recorder.add(next.value);
            return;
          }
          let record: CachedResponseRecord | undefined;
          try {
            record = params.abortSignal?.aborted === true ? undefined : recorder.record(clock.now());
            await store(prepared, embedding, record);
          } finally {
            settle(record);
            controller.close();
          }
        },
        async cancel(reason) {
          settle(undefined);
          await reader.cancel(reason);
        },
      });
      return { ...result, stream };
    },

    getStats(): SemanticCacheMiddlewareStats {
      return { ...stats };
    },

    resetStats(): void {
      for (const key of Object.keys(stats) as (keyof SemanticCacheMiddlewareStats)[]) stats[key] = 0;
    },
  };
}
