import { CacheConfig, CacheCoordinator, ConfigError } from '@lix/coordinator';
import { decode, decodeToString, encode, encodeString, HuffmanError, readHeader } from '@lix/huffman';
import { ArchiveError, ConversationArchive } from '@lix/archive';
import { crc16, defineScript, getPooledDriver, groupBySlot, hashTagOf, keySlot, KVError, type KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { cosineSimilarity, SemanticCache, SemanticCacheError, UrlEmbeddingCache } from '@lix/semantic-cache';
import {
  applyTokenBudget,
  approximateTokenCount,
  decodeRecord,
  encodeRecord,
  HybridConversationCache,
  IdleEvictor,
  recordSeq,
  SessionContextWindow,
  sessionKeys,
  SessionWindowError,
} from '@lix/session-window';
import { AiSdkCacheError, createChatStore, embeddingCacheMiddleware, semanticCacheMiddleware } from '@lix/ai-sdk';
import { LixChatMessageHistory, LixLangChainError, LixSemanticCache } from '@lix/langchain';
import { FakeEmbeddings } from '@langchain/core/utils/testing';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { MockEmbeddingModelV3 } from 'ai/test';
import { corrupt, anyValue, hostileEmbedding, hostileNumber, hostileSessionId, hostileString, randomBytes } from './hostile.js';
import type { Rng } from './rng.js';
import { createStressRuntime } from './system.js';
import { messageBody } from './workload.js';

/** A class whose instances count as typed errors of a package. */
type ErrorClass = abstract new (...args: never[]) => Error;

/** One family of bad inputs against one public API. */
export interface SweepGroup {
  /** `package: api`, as the report names it. */
  api: string;
  /** The package's error class (a layer's calls may also raise the typed errors of the layers it wraps). */
  errors: ErrorClass[];
  /** Runs the API once with inputs drawn from `rng`. Resolving means the input was accepted. */
  run(rng: Rng, env: SweepEnv): unknown;
}

/** Shared objects of the sweep process. */
export interface SweepEnv {
  /** Real Redis of the sweep (single node). */
  redisUrl: string;
  /** Scratch directory for archives. */
  dir: string;
  memory: KVDriver;
  ioredis: KVDriver;
  nodeRedis: KVDriver;
  archive: ConversationArchive;
  /** Counter for unique names. */
  next(): number;
}

const asAny = (value: unknown) => value as never;

/** An environment variable's text for any hostile value (`String()` throws on some objects; the harness must not). */
function envText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function pickDriver(rng: Rng, env: SweepEnv): KVDriver {
  return rng.pick([env.memory, env.ioredis, env.nodeRedis]);
}

function hostileKey(rng: Rng): unknown {
  return rng.chance(0.7) ? `sweep:${hostileString(rng).slice(0, 2_000_000)}` : anyValue(rng);
}

function validEmbedding(rng: Rng): Float32Array {
  return Float32Array.from({ length: 16 }, () => rng.next() - 0.5);
}

/** A sometimes-valid, sometimes-hostile options object built from the valid one. */
function mangle(rng: Rng, valid: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...valid };
  const keys = Object.keys(valid);
  const edits = rng.int(1, 3);
  for (let i = 0; i < edits; i++) {
    const key = rng.chance(0.85) ? rng.pick(keys) : `unknown${rng.int(0, 9)}`;
    copy[key] = rng.chance(0.5) ? hostileNumber(rng) : anyValue(rng);
  }
  return copy;
}

export const SWEEP_GROUPS: SweepGroup[] = [
  // ---- @lix/huffman
  { api: 'huffman: decode(random bytes)', errors: [HuffmanError], run: (rng) => decode(randomBytes(rng, rng.int(0, 2048))) },
  {
    api: 'huffman: decode(corrupted stream)',
    errors: [HuffmanError],
    run: (rng) => decode(corrupt(rng, encode(new TextEncoder().encode(messageBody(rng))))),
  },
  { api: 'huffman: decode(wrong type)', errors: [HuffmanError], run: (rng) => decode(asAny(anyValue(rng))) },
  {
    api: 'huffman: decode(options)',
    errors: [HuffmanError],
    run: (rng) => decode(encode(randomBytes(rng, 100)), asAny(rng.chance(0.5) ? { maxOutputLength: hostileNumber(rng) } : anyValue(rng))),
  },
  { api: 'huffman: encode(wrong type)', errors: [HuffmanError], run: (rng) => encode(asAny(anyValue(rng))) },
  {
    api: 'huffman: encode(options)',
    errors: [HuffmanError],
    run: (rng) => encode(randomBytes(rng, rng.int(0, 600)), asAny(rng.chance(0.6) ? { maxCodeLength: hostileNumber(rng) } : anyValue(rng))),
  },
  { api: 'huffman: encodeString', errors: [HuffmanError], run: (rng) => encodeString(asAny(rng.chance(0.5) ? hostileString(rng) : anyValue(rng))) },
  { api: 'huffman: decodeToString(corrupted)', errors: [HuffmanError], run: (rng) => decodeToString(corrupt(rng, encodeString(messageBody(rng)))) },
  { api: 'huffman: readHeader', errors: [HuffmanError], run: (rng) => readHeader(asAny(rng.chance(0.7) ? randomBytes(rng, rng.int(0, 64)) : anyValue(rng))) },

  // ---- @lix/redis-pool
  {
    api: 'redis-pool: create*Driver(options) + ping',
    errors: [KVError],
    run: async (rng, env) => {
      const valid = { url: env.redisUrl, commandTimeoutMs: 500, connectTimeoutMs: 500, reconnectMaxDelayMs: 100 };
      const options = mangle(rng, valid);
      // Keep connection attempts local: an unroutable host would only measure the OS's timeout.
      if (typeof options.host === 'string' || typeof options.url === 'string') options.host = '127.0.0.1';
      const create = rng.pick([createIoredisDriver, createNodeRedisDriver, createMemoryDriver]);
      const driver = create(asAny(options));
      try {
        await driver.ping();
      } finally {
        await driver.close();
      }
    },
  },
  {
    api: 'redis-pool: get/set/del with hostile keys and values',
    errors: [KVError],
    run: async (rng, env) => {
      const driver = pickDriver(rng, env);
      const key = hostileKey(rng);
      const value = rng.chance(0.5) ? anyValue(rng) : new Uint8Array(rng.int(0, 3) * 1024 * 1024);
      await driver.set(asAny(key), asAny(value), asAny(rng.chance(0.5) ? { ttlMs: hostileNumber(rng), mode: anyValue(rng) } : undefined));
      await driver.get(asAny(key));
      await driver.del(asAny(rng.chance(0.7) ? [key] : anyValue(rng)));
    },
  },
  {
    api: 'redis-pool: list/hash/zset commands with bad arguments',
    errors: [KVError],
    run: async (rng, env) => {
      const driver = pickDriver(rng, env);
      const key = `sweep:typed:${env.next()}`;
      await driver.set(key, new Uint8Array([1]));
      switch (rng.int(0, 7)) {
        case 0:
          return driver.rpush(rng.chance(0.5) ? key : asAny(hostileKey(rng)), asAny(rng.chance(0.5) ? [anyValue(rng)] : anyValue(rng)));
        case 1:
          return driver.lrange(key, asAny(hostileNumber(rng)), asAny(hostileNumber(rng)));
        case 2:
          return driver.hset(key, asAny(rng.chance(0.5) ? { f: anyValue(rng) } : anyValue(rng)));
        case 3:
          return driver.zadd(key, asAny([{ score: hostileNumber(rng), member: anyValue(rng) }]));
        case 4:
          return driver.incrBy(rng.chance(0.5) ? key : `sweep:n:${env.next()}`, asAny(hostileNumber(rng)));
        case 5:
          return driver.pexpire(key, asAny(hostileNumber(rng)));
        case 6:
          return driver.mget(asAny(rng.chance(0.5) ? [key, anyValue(rng)] : anyValue(rng)));
        default:
          return driver.zrangeByScore(key, asAny(hostileNumber(rng)), asAny(hostileNumber(rng)), asAny(anyValue(rng)));
      }
    },
  },
  {
    api: 'redis-pool: scan(hostile pattern)',
    errors: [KVError],
    run: async (rng, env) => {
      let seen = 0;
      for await (const _key of pickDriver(rng, env).scan(
        asAny(rng.chance(0.6) ? { match: hostileString(rng).slice(0, 10_000), count: hostileNumber(rng) } : anyValue(rng)),
      )) {
        if (++seen > 50) break;
      }
    },
  },

  {
    api: 'redis-pool: keySlot/hashTagOf/crc16/groupBySlot',
    errors: [KVError],
    run: (rng) => {
      const value = rng.chance(0.5) ? hostileString(rng) : anyValue(rng);
      switch (rng.int(0, 3)) {
        case 0:
          return keySlot(asAny(value));
        case 1:
          return hashTagOf(asAny(value));
        case 2:
          return crc16(asAny(rng.chance(0.5) ? randomBytes(rng, rng.int(0, 100)) : value));
        default:
          return groupBySlot(asAny(rng.chance(0.5) ? [value, 'k'] : value));
      }
    },
  },
  {
    api: 'redis-pool: getPooledDriver(options) + ping',
    errors: [KVError],
    run: async (rng, env) => {
      const options = mangle(rng, { driver: rng.pick(['ioredis', 'node-redis']), url: env.redisUrl, commandTimeoutMs: 500, connectTimeoutMs: 500 });
      if (typeof options.host === 'string' || typeof options.url === 'string') options.host = '127.0.0.1';
      const driver = getPooledDriver(asAny(options));
      try {
        await driver.ping();
      } finally {
        await driver.close();
      }
    },
  },
  {
    api: 'redis-pool: defineScript(definition)',
    errors: [KVError],
    run: (rng) => defineScript(asAny(mangle(rng, { name: 'sweep', lua: 'return 1', memory: () => 1 }))),
  },

  // ---- @lix/archive
  {
    api: 'archive: appendTurn(hostile session id / turn)',
    errors: [ArchiveError],
    run: (rng, env) =>
      env.archive.appendTurn(
        asAny(hostileSessionId(rng)),
        asAny(
          rng.chance(0.5)
            ? { role: 'user', content: messageBody(rng) }
            : { role: anyValue(rng), content: rng.chance(0.5) ? hostileString(rng) : anyValue(rng), metadata: anyValue(rng), embedding: hostileEmbedding(rng) },
        ),
      ),
  },
  {
    api: 'archive: loadAll/loadRecent/search/delete(hostile session id)',
    errors: [ArchiveError],
    run: (rng, env) => {
      const id = asAny(hostileSessionId(rng));
      switch (rng.int(0, 5)) {
        case 0:
          return env.archive.loadAll(id);
        case 1:
          return env.archive.loadRecent(id, asAny(hostileNumber(rng)));
        case 2:
          return env.archive.searchByText(id, asAny(anyValue(rng)), asAny(hostileNumber(rng)));
        case 3:
          return env.archive.searchByEmbedding(id, asAny(hostileEmbedding(rng)), asAny(hostileNumber(rng)));
        case 4:
          return env.archive.getMetadata(id);
        default:
          return env.archive.deleteSession(id);
      }
    },
  },
  {
    api: 'archive: corrupted files',
    errors: [ArchiveError],
    run: async (rng, env) => {
      const sessionId = `corrupt-${env.next()}`;
      for (let i = 0; i < rng.int(1, 6); i++) await env.archive.appendTurn(sessionId, { role: 'user', content: messageBody(rng) });
      await corruptArchiveFiles(rng, env.dir, sessionId);
      // A fresh instance, so nothing cached in memory hides the damage.
      const fresh = new ConversationArchive({ dir: env.dir });
      try {
        switch (rng.int(0, 4)) {
          case 0:
            return await fresh.loadAll(sessionId);
          case 1:
            return await fresh.loadRecent(sessionId, 3);
          case 2:
            return await fresh.getMetadata(sessionId);
          case 3:
            return await fresh.searchByText(sessionId, 'the', 3);
          default:
            return await fresh.appendTurn(sessionId, { role: 'user', content: 'after corruption' });
        }
      } finally {
        await fresh.close?.();
      }
    },
  },
  {
    api: 'archive: new ConversationArchive(options)',
    errors: [ArchiveError],
    run: async (rng, env) => {
      const archive = new ConversationArchive(asAny(mangle(rng, { dir: `${env.dir}/opts-${env.next()}`, ttlDays: 14, codec: 'huffman' })));
      await archive.close?.();
    },
  },

  // ---- @lix/session-window
  {
    api: 'session-window: new HybridConversationCache(options)',
    errors: [SessionWindowError],
    run: (rng, env) =>
      new HybridConversationCache(
        asAny(mangle(rng, { sessionId: 'ok', driver: env.memory, archive: env.archive, keyPrefix: 'sweep', hotWindowSize: 5, sessionMaxTokens: 100 })),
      ),
  },
  {
    api: 'session-window: addMessage(hostile)',
    errors: [SessionWindowError],
    run: (rng, env) => {
      const cache = new HybridConversationCache({ sessionId: `sw-${env.next()}`, driver: pickDriver(rng, env), archive: env.archive, keyPrefix: 'sweep' });
      return cache.addMessage(
        asAny(rng.chance(0.3) ? 'user' : anyValue(rng)),
        asAny(rng.chance(0.4) ? hostileString(rng) : anyValue(rng)),
        asAny(rng.chance(0.5) ? undefined : rng.chance(0.5) ? { big: 'x'.repeat(rng.int(1, 200) * 1024) } : anyValue(rng)),
        asAny(rng.chance(0.5) ? undefined : hostileEmbedding(rng)),
      );
    },
  },
  {
    api: 'session-window: hostile session id',
    errors: [SessionWindowError],
    run: async (rng, env) => {
      const cache = new HybridConversationCache({
        sessionId: asAny(hostileSessionId(rng)),
        driver: pickDriver(rng, env),
        archive: env.archive,
        keyPrefix: 'sweep',
      });
      await cache.addMessage('user', 'hello');
      return cache.getContext();
    },
  },
  {
    api: 'session-window: smartContext/getFormattedContext(hostile)',
    errors: [SessionWindowError],
    run: async (rng, env) => {
      const cache = new HybridConversationCache({ sessionId: `sw-${env.next()}`, driver: pickDriver(rng, env), archive: env.archive, keyPrefix: 'sweep' });
      await cache.addMessage('user', messageBody(rng));
      return rng.chance(0.5)
        ? cache.smartContext(asAny(anyValue(rng)), asAny(hostileEmbedding(rng)), asAny(hostileNumber(rng)), asAny(hostileNumber(rng)))
        : cache.getFormattedContext(asAny(hostileNumber(rng)));
    },
  },
  {
    api: 'session-window: new IdleEvictor(options)',
    errors: [SessionWindowError],
    run: async (rng, env) => {
      const evictor = new IdleEvictor(
        asAny(mangle(rng, { driver: env.memory, archive: env.archive, keyPrefix: 'sweep', evictAfterMs: 1000, intervalMs: 1000 })),
      );
      await evictor.runOnce();
      await evictor.stop();
    },
  },

  {
    api: 'session-window: decodeRecord/recordSeq(corrupted record)',
    errors: [SessionWindowError],
    run: (rng) => {
      const valid = encodeRecord({ seq: rng.int(1, 1000), role: 'user', content: messageBody(rng), timestamp: 1, metadata: {} });
      const bytes = rng.chance(0.85) ? corrupt(rng, valid) : anyValue(rng);
      return rng.chance(0.5) ? decodeRecord(asAny(bytes)) : recordSeq(asAny(bytes));
    },
  },
  {
    api: 'session-window: encodeRecord(hostile message)',
    errors: [SessionWindowError],
    run: (rng) =>
      encodeRecord(
        asAny(
          rng.chance(0.5)
            ? { seq: hostileNumber(rng), role: anyValue(rng), content: anyValue(rng), timestamp: hostileNumber(rng), metadata: anyValue(rng) }
            : anyValue(rng),
        ),
      ),
  },
  {
    api: 'session-window: sessionKeys/approximateTokenCount/applyTokenBudget',
    errors: [SessionWindowError],
    run: (rng) => {
      switch (rng.int(0, 2)) {
        case 0:
          return sessionKeys(asAny(rng.chance(0.5) ? 'lix' : hostileSessionId(rng)), asAny(hostileSessionId(rng)));
        case 1:
          return approximateTokenCount(asAny(rng.chance(0.5) ? hostileString(rng) : anyValue(rng)));
        default:
          return applyTokenBudget(
            asAny(rng.chance(0.5) ? [{ seq: 1, role: 'user', content: anyValue(rng) }] : anyValue(rng)),
            asAny(hostileNumber(rng)),
            asAny(rng.chance(0.5) ? approximateTokenCount : anyValue(rng)),
          );
      }
    },
  },
  {
    api: 'session-window: new SessionContextWindow(options)',
    errors: [SessionWindowError],
    run: async (rng, env) => {
      const window = new SessionContextWindow(
        asAny(mangle(rng, { sessionId: `cw-${env.next()}`, driver: env.memory, archive: env.archive, keyPrefix: 'sweep' })),
      );
      return window.getStats();
    },
  },

  // ---- @lix/semantic-cache
  {
    api: 'semantic-cache: cosineSimilarity(hostile)',
    errors: [SemanticCacheError],
    run: (rng) => cosineSimilarity(asAny(rng.chance(0.3) ? validEmbedding(rng) : hostileEmbedding(rng)), asAny(hostileEmbedding(rng))),
  },
  {
    api: 'semantic-cache: new SemanticCache(options)',
    errors: [SemanticCacheError],
    run: (rng, env) =>
      new SemanticCache(
        asAny(mangle(rng, { driver: env.memory, sessionId: 'ok', keyPrefix: 'sweep', similarityThreshold: 0.9, ttlMs: 1000, maxItemsPerUrl: 5 })),
      ),
  },
  {
    api: 'semantic-cache: get/set(hostile)',
    errors: [SemanticCacheError],
    run: async (rng, env) => {
      const cache = new SemanticCache(
        asAny({ driver: pickDriver(rng, env), sessionId: rng.chance(0.5) ? `sc-${env.next()}` : hostileSessionId(rng), keyPrefix: 'sweep' }),
      );
      const url = rng.chance(0.4) ? 'https://example.com/a' : anyValue(rng);
      const embedding = rng.chance(0.4) ? validEmbedding(rng) : hostileEmbedding(rng);
      if (rng.chance(0.5)) return cache.set(asAny(url), asAny(embedding), asAny(rng.chance(0.5) ? hostileString(rng) : anyValue(rng)));
      return cache.get(asAny(url), asAny(embedding));
    },
  },
  {
    api: 'semantic-cache: UrlEmbeddingCache(hostile)',
    errors: [SemanticCacheError],
    run: async (rng, env) => {
      const cache = new UrlEmbeddingCache(
        asAny(rng.chance(0.7) ? { driver: pickDriver(rng, env), modelId: 'sweep', keyPrefix: 'sweep' } : mangle(rng, { driver: env.memory, modelId: 'm' })),
      );
      const url = rng.chance(0.3) ? 'https://example.com/u' : rng.chance(0.5) ? hostileString(rng) : anyValue(rng);
      switch (rng.int(0, 2)) {
        case 0:
          return cache.get(asAny(url));
        case 1:
          return cache.set(asAny(url), asAny(rng.chance(0.3) ? validEmbedding(rng) : hostileEmbedding(rng)));
        default:
          return cache.batchSet(asAny(rng.chance(0.5) ? [[url, hostileEmbedding(rng)]] : anyValue(rng)));
      }
    },
  },

  // ---- @lix/coordinator
  {
    api: 'coordinator: new CacheConfig(options)',
    errors: [ConfigError],
    run: (rng) =>
      new CacheConfig(asAny(mangle(rng, { driver: 'memory', hotWindowSize: 20, redisPort: 6379, archiveDir: '/tmp/x', semanticSimilarityThreshold: 0.9 }))),
  },
  {
    api: 'coordinator: CacheConfig.fromEnv(hostile environment)',
    errors: [ConfigError],
    run: (rng) => {
      const env: Record<string, unknown> = {};
      for (const name of [
        'REDIS_PORT',
        'REDIS_URL',
        'HOT_WINDOW_SIZE',
        'SEMANTIC_SIMILARITY_THRESHOLD',
        'REDIS_CLUSTER_NODES',
        'REDIS_DRIVER',
        'SESSION_MAX_TOKENS',
      ]) {
        if (rng.chance(0.4)) env[`APP_${name}`] = rng.chance(0.7) ? hostileString(rng).slice(0, 100_000) : envText(hostileNumber(rng));
      }
      return CacheConfig.fromEnv(asAny(rng.chance(0.8) ? 'APP' : anyValue(rng)), asAny(env));
    },
  },
  {
    api: 'coordinator: new CacheCoordinator(options)',
    errors: [ConfigError],
    run: (rng) => new CacheCoordinator(asAny(rng.chance(0.5) ? { sessionId: hostileSessionId(rng) } : anyValue(rng))),
  },
  {
    api: 'coordinator: runtime coordinator calls (hostile)',
    errors: [ConfigError, SessionWindowError, SemanticCacheError, KVError, ArchiveError],
    run: async (rng, env) => {
      const runtime = coordinatorRuntime(env);
      const coordinator = runtime.forSession(asAny(rng.chance(0.7) ? `co-${env.next()}` : hostileSessionId(rng)));
      switch (rng.int(0, 5)) {
        case 0:
          return coordinator.addMessageToContext(
            asAny(rng.chance(0.5) ? 'user' : anyValue(rng)),
            asAny(rng.chance(0.5) ? hostileString(rng) : anyValue(rng)),
            asAny(anyValue(rng)),
          );
        case 1:
          return coordinator.getSemanticResponse(asAny(anyValue(rng)), asAny(hostileEmbedding(rng)));
        case 2:
          return coordinator.cacheSemanticResponse(asAny(rng.chance(0.5) ? 'https://x' : anyValue(rng)), asAny(hostileEmbedding(rng)), asAny(anyValue(rng)));
        case 3:
          return coordinator.getUrlEmbedding(asAny(anyValue(rng)));
        case 4:
          return coordinator.cacheUrlEmbedding(asAny(rng.chance(0.5) ? hostileString(rng) : anyValue(rng)), asAny(hostileEmbedding(rng)));
        default:
          return coordinator.batchCacheUrlEmbeddings(asAny(anyValue(rng)));
      }
    },
  },

  // ---- @lix/ai-sdk
  {
    api: 'ai-sdk: semanticCacheMiddleware(options)',
    errors: [AiSdkCacheError],
    run: (rng, env) =>
      semanticCacheMiddleware(
        asAny(
          mangle(rng, {
            driver: env.memory,
            embeddingModel: sweepEmbeddingModel(),
            scope: 'shared',
            lookupTimeoutMs: 100,
            storeTimeoutMs: 100,
            singleFlight: true,
          }),
        ),
      ),
  },
  {
    api: 'ai-sdk: embeddingCacheMiddleware(options)',
    errors: [AiSdkCacheError],
    run: (rng, env) => embeddingCacheMiddleware(asAny(mangle(rng, { driver: env.memory, modelId: 'm', keyPrefix: 'sweep', ttlMs: 1000, timeoutMs: 100 }))),
  },
  {
    api: 'ai-sdk: createChatStore(options) + saveChat/loadChat(hostile)',
    errors: [AiSdkCacheError],
    run: async (rng, env) => {
      if (rng.chance(0.3)) return createChatStore(asAny(mangle(rng, { driver: env.memory, archive: env.archive, keyPrefix: 'sweep', hotWindowSize: 5 })));
      const store = createChatStore({ driver: pickDriver(rng, env), archive: env.archive, keyPrefix: 'sweep' });
      const chatId = rng.chance(0.6) ? `chat-${env.next()}` : hostileSessionId(rng);
      if (rng.chance(0.4)) return store.loadChat(asAny(chatId));
      const messages = rng.chance(0.5)
        ? [
            {
              id: `m${env.next()}`,
              role: rng.chance(0.7) ? 'user' : anyValue(rng),
              parts: rng.chance(0.6) ? [{ type: 'text', text: hostileString(rng) }] : anyValue(rng),
            },
          ]
        : anyValue(rng);
      return store.saveChat(asAny(rng.chance(0.8) ? { chatId, messages } : anyValue(rng)));
    },
  },

  // ---- @lix/langchain
  {
    api: 'langchain: new LixChatMessageHistory(options)',
    errors: [LixLangChainError],
    run: (rng, env) =>
      new LixChatMessageHistory(
        asAny(mangle(rng, { sessionId: 'ok', driver: env.memory, archive: env.archive, keyPrefix: 'sweep', hotWindowSize: 5, source: 'window' })),
      ),
  },
  {
    api: 'langchain: LixChatMessageHistory.addMessages(hostile)',
    errors: [LixLangChainError],
    run: async (rng, env) => {
      const history = new LixChatMessageHistory({
        sessionId: rng.chance(0.7) ? `lc-${env.next()}` : asAny(hostileSessionId(rng)),
        driver: pickDriver(rng, env),
        archive: env.archive,
        keyPrefix: 'sweep',
      });
      const message = rng.chance(0.5) ? humanMessageOr(rng.chance(0.5) ? hostileString(rng) : anyValue(rng)) : anyValue(rng);
      if (rng.chance(0.5)) return history.addMessage(asAny(message));
      return history.addMessages(
        asAny(rng.chance(0.6) ? [message, new AIMessage({ content: 'ok', additional_kwargs: asAny({ extra: anyValue(rng) }) })] : anyValue(rng)),
      );
    },
  },
  {
    api: 'langchain: LixSemanticCache(options) + lookup/update(hostile)',
    errors: [LixLangChainError],
    run: async (rng, env) => {
      if (rng.chance(0.3))
        return new LixSemanticCache(
          asAny(mangle(rng, { embeddings: new FakeEmbeddings(), driver: env.memory, keyPrefix: 'sweep', ttlMs: 1000, similarityThreshold: 0.9 })),
        );
      const cache = new LixSemanticCache({ embeddings: new FakeEmbeddings(), driver: pickDriver(rng, env), keyPrefix: 'sweep' });
      const prompt = rng.chance(0.6) ? `Human: ${messageBody(rng)}` : anyValue(rng);
      const llmKey = rng.chance(0.6) ? 'model-a' : anyValue(rng);
      if (rng.chance(0.5)) return cache.lookup(asAny(prompt), asAny(llmKey));
      return cache.update(asAny(prompt), asAny(llmKey), asAny(rng.chance(0.5) ? [{ text: hostileString(rng) }] : anyValue(rng)));
    },
  },
];

/** A LangChain message of `content`, or `content` itself where LangChain's own constructor refuses it (not ours to test). */
function humanMessageOr(content: unknown): unknown {
  try {
    return new HumanMessage(asAny(content));
  } catch {
    return content;
  }
}

/** An AI SDK embedding model that embeds locally: the sweep exercises our validation, not a provider. */
function sweepEmbeddingModel(): MockEmbeddingModelV3 {
  return new MockEmbeddingModelV3({
    provider: 'sweep',
    modelId: 'sweep-embedder',
    maxEmbeddingsPerCall: 100,
    doEmbed: async ({ values }) => ({ embeddings: values.map((value) => [value.length % 7, 1, 0.5]), warnings: [] }),
  });
}

let runtimeOfEnv: ReturnType<typeof createStressRuntime> | undefined;
function coordinatorRuntime(env: SweepEnv) {
  runtimeOfEnv ??= createStressRuntime({ driver: 'memory', archiveDir: `${env.dir}/runtime` });
  return runtimeOfEnv;
}

/** Closes what {@link SWEEP_GROUPS} opened lazily. */
export async function closeSweepGroups(): Promise<void> {
  await runtimeOfEnv?.close();
  runtimeOfEnv = undefined;
}

/**
 * Damages the files the archive wrote for a session: flipped, truncated, extended or
 * replaced bytes. The archive names a session's files after `s-<id>` when the id is made of
 * `[a-z0-9-]`, which the sweep's ids are; any file so named (data, index, lock) is fair game.
 */
async function corruptArchiveFiles(rng: Rng, dir: string, sessionId: string): Promise<void> {
  const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const stem = `s-${sessionId}`;
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((entry) => {
      const path = join(at, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.isFile() && (entry.name === stem || entry.name.startsWith(`${stem}.`)) ? [path] : [];
    });
  for (const [position, file] of walk(dir).entries()) {
    if (position === 0 || rng.chance(0.6)) writeFileSync(file, corrupt(rng, new Uint8Array(readFileSync(file))));
  }
}
