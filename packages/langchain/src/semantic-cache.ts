import { createHash } from 'node:crypto';
import { BaseCache } from '@langchain/core/caches';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import type { Generation } from '@langchain/core/outputs';
import type { Clock, KVDriver, Logger } from '@lix/redis-pool';
import { SemanticCache } from '@lix/semantic-cache';
import { LixLangChainError, checkOptionKeys } from './errors.js';
import { decodeGenerations, encodeGenerations, type CachedGenerations } from './generation-codec.js';
import { lastHumanTurn, type QueryExtractor } from './prompt-query.js';

/** Options of {@link LixSemanticCache}. */
export interface LixSemanticCacheOptions {
  /** Computes the semantic key (any LangChain `Embeddings`, e.g. `OpenAIEmbeddings`). Use one model per cache. */
  embeddings: EmbeddingsInterface;
  /** A `@lix/redis-pool` driver (not closed by the cache). Give this or `semanticCache`. */
  driver?: KVDriver;
  /**
   * A `SemanticCache` you built yourself (its `sessionId` is then the scope). Give this or
   * `driver`; the options below that configure the semantic cache are refused alongside it.
   */
  semanticCache?: SemanticCache<unknown>;
  /**
   * The owner of the entries, required with `driver`: a user or tenant id for per-user
   * isolation, a persona, or e.g. `'global'` to share answers between everyone knowingly.
   * Together with the model's `llmKey` it is a hard partition: no lookup ever sees another
   * scope's, another model's or other model settings' answers.
   */
  scope?: string;
  /** Turns the prompt string into the text to embed, or `null` to bypass (default {@link lastHumanTurn}). */
  extractQuery?: QueryExtractor;
  /** First key segment of the semantic cache (default `lix`). */
  keyPrefix?: string;
  /** How long an entry lives (default 5 min). */
  ttlMs?: number;
  /** Smallest cosine similarity counted as a hit (default 0.90). */
  similarityThreshold?: number;
  /** Most entries kept per scope and model; the oldest are dropped first (default 50, at most 1000). */
  maxEntriesPerModel?: number;
  /** Largest serialised answer cached (default 4 MiB); a larger one is not cached. */
  maxResponseBytes?: number;
  /** Receives a warning for every failure served as a miss; nothing is printed otherwise. */
  logger?: Logger;
  /** Time source of entry expiry (inject in tests). */
  clock?: Clock;
}

/** Counters of one {@link LixSemanticCache}. */
export interface LixSemanticCacheStats {
  /** Lookups that reached the semantic cache (bypassed prompts are not counted). */
  lookups: number;
  hits: number;
  misses: number;
  /** Prompts the extractor bypassed (no lookup, no update). */
  bypassed: number;
  /** Answers stored. */
  updates: number;
  /** Lookups that failed (embedding, backend, a corrupt entry) and were served as misses. */
  failedLookups: number;
  /** Updates that failed or could not be serialised; the answer was returned, not cached. */
  failedUpdates: number;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'embeddings',
  'driver',
  'semanticCache',
  'scope',
  'extractQuery',
  'keyPrefix',
  'ttlMs',
  'similarityThreshold',
  'maxEntriesPerModel',
  'maxResponseBytes',
  'logger',
  'clock',
]);
const SEMANTIC_CACHE_OPTIONS = ['keyPrefix', 'ttlMs', 'similarityThreshold', 'maxEntriesPerModel', 'maxResponseBytes', 'clock'] as const;
const MODEL_KEY_MEMO_SIZE = 64;
const PENDING_EMBEDDINGS_LIMIT = 256;

/**
 * A LangChain LLM cache (`new ChatOpenAI({ cache })`) on `@lix/semantic-cache`: a
 * rephrased question is answered from the cache when its embedding is close enough to
 * one already answered by the same model with the same settings, in the same scope.
 *
 * The semantic key is the embedding of the last human turn (see {@link lastHumanTurn});
 * the hard partition is the scope plus a SHA-256 of LangChain's `llmKey` (model, its
 * parameters and the call options). Generations are stored with LangChain's serialisation,
 * so chat messages (tool calls, metadata) come back as messages.
 *
 * It fails open: a failing embedding model, Redis or entry is logged, counted and served
 * as a miss (the model is called), and a failed update only loses the cache entry.
 */
export class LixSemanticCache extends BaseCache<Generation[]> {
  /** The owner of this cache's entries. */
  readonly scope: string;
  readonly #cache: SemanticCache<unknown>;
  readonly #embeddings: EmbeddingsInterface;
  readonly #extract: QueryExtractor;
  readonly #logger: Logger | undefined;
  readonly #modelKeys = new Map<string, string>();
  /** Embeddings of missed questions, kept until their update: a miss then costs one embedding call, not two. */
  readonly #pending = new Map<string, number[]>();
  #lookups = 0;
  #hits = 0;
  #bypassed = 0;
  #updates = 0;
  #failedLookups = 0;
  #failedUpdates = 0;

  constructor(options: LixSemanticCacheOptions) {
    super();
    checkOptionKeys(options, 'LixSemanticCache', KNOWN_OPTIONS);
    const { embeddings } = options;
    if (embeddings === null || typeof embeddings !== 'object' || typeof embeddings.embedQuery !== 'function') {
      throw new LixLangChainError('INVALID_OPTION', 'embeddings must be a LangChain Embeddings instance (with embedQuery).');
    }
    if (options.extractQuery !== undefined && typeof options.extractQuery !== 'function') {
      throw new LixLangChainError('INVALID_OPTION', 'extractQuery must be a function (prompt) => string | null.');
    }
    if (options.logger !== undefined && (options.logger === null || typeof options.logger !== 'object')) {
      throw new LixLangChainError('INVALID_OPTION', 'logger must be an object with optional debug/info/warn/error functions.');
    }
    if ((options.driver === undefined) === (options.semanticCache === undefined)) {
      throw new LixLangChainError('INVALID_OPTION', 'LixSemanticCache needs exactly one of driver (a KVDriver) or semanticCache (a SemanticCache).');
    }
    if (options.semanticCache !== undefined) {
      if (!(options.semanticCache instanceof SemanticCache))
        throw new LixLangChainError('INVALID_OPTION', 'semanticCache must be a SemanticCache from @lix/semantic-cache.');
      const clash = [...SEMANTIC_CACHE_OPTIONS, 'scope'].filter((name) => (options as Record<string, unknown>)[name] !== undefined);
      if (clash.length > 0)
        throw new LixLangChainError('INVALID_OPTION', `${clash.join(', ')} configure the semantic cache; with semanticCache, set them on it instead.`);
      this.#cache = options.semanticCache;
      this.scope = options.semanticCache.sessionId;
    } else {
      const { scope } = options;
      if (typeof scope !== 'string' || scope.length === 0 || scope.length > 1024) {
        throw new LixLangChainError(
          'INVALID_OPTION',
          `scope must be a non-empty string of at most 1024 characters (a user or tenant id, or 'global' to share between everyone), got ${typeof scope === 'string' ? `a string of length ${scope.length}` : typeof scope}.`,
        );
      }
      try {
        this.#cache = new SemanticCache<unknown>({
          driver: options.driver!,
          sessionId: scope,
          scope: 'session',
          ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
          ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
          ...(options.similarityThreshold === undefined ? {} : { similarityThreshold: options.similarityThreshold }),
          ...(options.maxEntriesPerModel === undefined ? {} : { maxItemsPerUrl: options.maxEntriesPerModel }),
          ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
          ...(options.logger === undefined ? {} : { logger: options.logger }),
          ...(options.clock === undefined ? {} : { clock: options.clock }),
        });
      } catch (error) {
        throw new LixLangChainError('INVALID_OPTION', `LixSemanticCache: ${(error as Error)?.message ?? String(error)}`, { cause: error });
      }
      this.scope = scope;
    }
    this.#embeddings = embeddings;
    this.#extract = options.extractQuery ?? lastHumanTurn;
    this.#logger = options.logger;
  }

  /** The semantic cache underneath (its own stats, `clearSession()`). */
  get semanticCache(): SemanticCache<unknown> {
    return this.#cache;
  }

  /**
   * The partition of one model: a digest of `llmKey`, which can be long (every parameter
   * of the model), so keys and the semantic cache's key memo stay bounded.
   */
  #partitionOf(llmKey: string): string {
    let partition = this.#modelKeys.get(llmKey);
    if (partition === undefined) {
      partition = `langchain:${createHash('sha256').update(llmKey, 'utf8').digest('base64url')}`;
      if (this.#modelKeys.size >= MODEL_KEY_MEMO_SIZE) this.#modelKeys.clear();
      this.#modelKeys.set(llmKey, partition);
    }
    return partition;
  }

  #query(prompt: string): string | null {
    const query = this.#extract(prompt);
    if (query !== null && typeof query !== 'string')
      throw new LixLangChainError('INVALID_OPTION', `extractQuery returned ${typeof query}; it must return a string or null.`);
    return query === null || query.trim() === '' ? null : query;
  }

  /**
   * The cached generations of the most similar question already answered by this model
   * in this scope, or `null`. Never rejects: every failure is a logged, counted miss.
   */
  async lookup(prompt: string, llmKey: string): Promise<Generation[] | null> {
    try {
      const query = this.#query(prompt);
      if (query === null) {
        this.#bypassed++;
        return null;
      }
      const embedding = await this.#embeddings.embedQuery(query);
      this.#lookups++;
      const hit = await this.#cache.lookup(this.#partitionOf(llmKey), embedding);
      if (hit === null) {
        if (this.#pending.size >= PENDING_EMBEDDINGS_LIMIT) this.#pending.clear();
        this.#pending.set(query, embedding);
        return null;
      }
      const generations = decodeGenerations(hit.response);
      if (generations === null) throw new LixLangChainError('INVALID_MESSAGE', 'a cached entry is not a generations record of this package');
      this.#hits++;
      return generations;
    } catch (error) {
      this.#failedLookups++;
      this.#logger?.warn?.('langchain: semantic cache lookup failed; serving a miss', { scope: this.scope, error });
      return null;
    }
  }

  /**
   * Stores the generations under the prompt's question for this model and scope. Never
   * rejects: a failure is logged and counted, and only the cache entry is lost.
   */
  async update(prompt: string, llmKey: string, value: Generation[]): Promise<void> {
    try {
      const query = this.#query(prompt);
      if (query === null) return;
      if (!Array.isArray(value) || value.length === 0) return;
      const record: CachedGenerations = encodeGenerations(value);
      let embedding = this.#pending.get(query);
      if (embedding === undefined) embedding = await this.#embeddings.embedQuery(query);
      else this.#pending.delete(query);
      await this.#cache.set(this.#partitionOf(llmKey), embedding, record);
      this.#updates++;
    } catch (error) {
      this.#failedUpdates++;
      this.#logger?.warn?.('langchain: semantic cache update failed; the answer was not cached', { scope: this.scope, error });
    }
  }

  /** This instance's counters since creation or {@link resetStats}. */
  getStats(): LixSemanticCacheStats {
    return {
      lookups: this.#lookups,
      hits: this.#hits,
      misses: this.#lookups - this.#hits,
      bypassed: this.#bypassed,
      updates: this.#updates,
      failedLookups: this.#failedLookups,
      failedUpdates: this.#failedUpdates,
    };
  }

  /** Zeroes this instance's counters (stored entries are untouched). */
  resetStats(): void {
    this.#lookups = 0;
    this.#hits = 0;
    this.#bypassed = 0;
    this.#updates = 0;
    this.#failedLookups = 0;
    this.#failedUpdates = 0;
  }
}
