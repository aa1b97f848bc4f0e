import { createCacheRuntime, type CacheConfigOptions, type CacheCoordinator, type CacheRuntime } from '@lix/coordinator';
import type { KVDriver, Logger } from '@lix/redis-pool';
import { type HybridConversationCache, IdleEvictor, type ConversationMessage } from '@lix/session-window';

/**
 * The system under test, seen through the few calls the harness makes. Everything goes
 * through `@lix/coordinator`: one `CacheRuntime` per process (pooled drivers opened from a
 * `CacheConfig`, one `ConversationArchive`, one URL embedding cache) handing out a
 * `CacheCoordinator` per session, as a chat service would use it. The layers are the stock
 * ones (`HybridConversationCache`, `SemanticCache`, `UrlEmbeddingCache`), exactly as
 * `createCacheRuntime` builds them. Only `getFull` reaches past the coordinator, to its
 * session-window layer, because the coordinator's surface has no full-history read.
 */

/** The Redis client library a worker uses. */
export type DriverKind = 'ioredis' | 'node-redis';

/** Where Redis is. */
export type RedisTarget = { kind: 'single'; host: string; port: number } | { kind: 'cluster'; nodes: { host: string; port: number }[] };

/** Options of {@link openWorkerSystem}. */
export interface WorkerSystemOptions {
  driverKind: DriverKind;
  redis: RedisTarget;
  /** The archive directory every worker of a topology shares. */
  archiveDir: string;
  /** `postgres://…`: use the PostgreSQL archive store instead of `archiveDir`. */
  archiveUrl?: string;
  keyPrefix: string;
  hotWindowSize: number;
  /** Token budget of the hot window (`undefined`: none). */
  sessionMaxTokens: number | undefined;
  similarityThreshold: number;
  embeddingModelId: string;
  /** Idle time after which {@link WorkerSystem.evictIdle} frees a session's Redis keys. */
  evictAfterMs: number;
  logger?: Logger;
}

/** A stored message as the harness checks it. */
export interface StoredMessage {
  seq: number;
  role: string;
  content: string;
  timestamp: number;
}

/** One session's calls. */
export interface SystemSession {
  /** Resolves once the message is acknowledged; with its seq when the API returns one. */
  addMessage(role: string, content: string): Promise<number | undefined>;
  getContext(): Promise<StoredMessage[]>;
  getFull(): Promise<StoredMessage[]>;
  semanticGet(url: string, embedding: Float32Array): Promise<string | null>;
  semanticSet(url: string, embedding: Float32Array, response: string): Promise<void>;
  urlGet(url: string): Promise<Float32Array | null>;
  urlSet(url: string, embedding: Float32Array): Promise<void>;
}

/** A process's handle on the system. */
export interface WorkerSystem {
  session(sessionId: string): SystemSession;
  /** One idle-eviction pass; resolves with the number of sessions evicted. */
  evictIdle(): Promise<number>;
  close(): Promise<void>;
}

function toStored(message: ConversationMessage): StoredMessage {
  return { seq: message.seq, role: message.role, content: message.content, timestamp: message.timestamp };
}

/**
 * The runtime a chat service gets from `createCacheRuntime` (the stock layers over one
 * shared archive), from a config. No runtime evictor: its idle time is in whole minutes and
 * the harness needs seconds, so workers run the session-window `IdleEvictor` themselves.
 */
export function createStressRuntime(config: Partial<CacheConfigOptions>, log?: Logger): CacheRuntime<ConversationMessage, string> {
  return createCacheRuntime<string>({ config, idleEviction: false, ...(log ? { logger: log } : {}) });
}

/** Opens one process's runtime (its drivers connect lazily, so this works while Redis is down). */
export function openWorkerSystem(options: WorkerSystemOptions): WorkerSystem {
  const redis = options.redis;
  const runtime = createStressRuntime(
    {
      driver: options.driverKind,
      ...(redis.kind === 'single' ? { redisHost: redis.host, redisPort: redis.port } : { clusterNodes: redis.nodes }),
      redisKeyPrefix: options.keyPrefix,
      archiveDir: options.archiveDir,
      ...(options.archiveUrl ? { archiveUrl: options.archiveUrl } : {}),
      hotWindowSize: options.hotWindowSize,
      sessionMaxTokens: options.sessionMaxTokens,
      semanticSimilarityThreshold: options.similarityThreshold,
      embeddingModelId: options.embeddingModelId,
      redisSocketConnectTimeout: 2,
    },
    options.logger,
  );
  const sessionDriver = runtime.driverFor('sessionWindow') as KVDriver;
  const evictor = new IdleEvictor({
    driver: sessionDriver,
    archive: runtime.archive as ConstructorParameters<typeof IdleEvictor>[0]['archive'],
    keyPrefix: options.keyPrefix,
    evictAfterMs: options.evictAfterMs,
    intervalMs: 60_000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const coordinators = new Map<string, CacheCoordinator<ConversationMessage, string>>();

  function coordinatorOf(sessionId: string): CacheCoordinator<ConversationMessage, string> {
    let coordinator = coordinators.get(sessionId);
    if (!coordinator) {
      coordinator = runtime.forSession(sessionId);
      coordinators.set(sessionId, coordinator);
    }
    return coordinator;
  }

  return {
    session(sessionId: string): SystemSession {
      const coordinator = coordinatorOf(sessionId);
      return {
        addMessage: async (role, content) => {
          // The coordinator's surface resolves without the seq today; use it if a later version returns it.
          const seq: unknown = await coordinator.addMessageToContext(role, content);
          return typeof seq === 'number' ? seq : undefined;
        },
        getContext: async () => (await coordinator.getContextMessages()).map(toStored),
        getFull: async () => (await (coordinator.sessionWindow as unknown as HybridConversationCache).getFull()).map(toStored),
        semanticGet: (url, embedding) => coordinator.getSemanticResponse(url, embedding),
        semanticSet: async (url, embedding, response) => {
          await coordinator.cacheSemanticResponse(url, embedding, response);
        },
        urlGet: (url) => coordinator.getUrlEmbedding(url),
        urlSet: async (url, embedding) => {
          await coordinator.cacheUrlEmbedding(url, embedding);
        },
      };
    },
    evictIdle: async () => (await evictor.runOnce()).evicted,
    close: async () => {
      await evictor.stop();
      await runtime.close();
    },
  };
}
