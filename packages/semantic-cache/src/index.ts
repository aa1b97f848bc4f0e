export { SemanticCacheError, isSemanticCacheError, type SemanticCacheErrorCode } from './errors.js';
export {
  SemanticCache,
  DEFAULT_SEMANTIC_TTL_MS,
  DEFAULT_SIMILARITY_THRESHOLD,
  DEFAULT_MAX_ITEMS_PER_URL,
  DEFAULT_MAX_RESPONSE_BYTES,
  MAX_ITEMS_PER_URL_LIMIT,
  type SemanticCacheOptions,
  type SemanticCacheScope,
  type SemanticCacheHit,
  type SemanticCacheStats,
  type LookupOptions,
} from './semantic-cache.js';
export {
  UrlEmbeddingCache,
  DEFAULT_URL_EMBEDDING_TTL_MS,
  MAX_BATCH_SIZE,
  type UrlEmbeddingCacheOptions,
  type UrlEmbeddingCacheStats,
  type UrlEmbeddingEntries,
} from './url-embedding-cache.js';
export { HISTOGRAM_EDGES, type SimilarityBucket, type SimilaritySummary } from './stats.js';
export { cosineSimilarity, MAX_DIMENSIONS, type EmbeddingInput } from './vector.js';
export { setEntryScript } from './scripts.js';
export { DEFAULT_KEY_PREFIX, MAX_RAW_URL_BYTES } from './keys.js';
