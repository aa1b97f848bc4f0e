export { AiSdkCacheError, isAiSdkCacheError, type AiSdkCacheErrorCode } from './errors.js';
export {
  semanticCacheMiddleware,
  DEFAULT_LOOKUP_TIMEOUT_MS,
  DEFAULT_STORE_TIMEOUT_MS,
  SEMANTIC_CACHE_PASS_THROUGH_KEYS,
  type SemanticCacheMiddleware,
  type SemanticCacheMiddlewareOptions,
  type SemanticCacheMiddlewareStats,
  type SemanticCachePassThroughOptions,
} from './semantic-cache-middleware.js';
export {
  embeddingCacheMiddleware,
  embeddingTextKey,
  type EmbeddingCacheMiddleware,
  type EmbeddingCacheMiddlewareOptions,
  type EmbeddingCacheMiddlewareStats,
} from './embedding-cache-middleware.js';
export { createChatStore, type ChatStore, type ChatStoreOptions, type SaveChatResult } from './chat-store.js';
export { defaultFingerprint, historyFingerprint, lastUserMessageText, LIX_PROVIDER_OPTIONS_KEY } from './fingerprint.js';
export type { CachedResponseRecord, StoredStreamPart } from './cached-response.js';
