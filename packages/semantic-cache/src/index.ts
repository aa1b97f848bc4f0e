export { SemanticCacheError, isSemanticCacheError, type SemanticCacheErrorCode } from './errors.js';
export { DEFAULT_BACKEND_TIMEOUT_MS, type BackendErrorPolicy } from './backend.js';
export {
  SemanticCache,
  SEMANTIC_CACHE_OPTION_KEYS,
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
  URL_EMBEDDING_CACHE_OPTION_KEYS,
  DEFAULT_URL_EMBEDDING_TTL_MS,
  MAX_BATCH_SIZE,
  type UrlEmbeddingCacheOptions,
  type UrlEmbeddingCacheStats,
  type UrlEmbeddingEntries,
} from './url-embedding-cache.js';
export { HISTOGRAM_EDGES, type BackendErrorCounts, type SimilarityBucket, type SimilaritySummary } from './stats.js';
export { cosineSimilarity, MAX_DIMENSIONS, type EmbeddingInput } from './vector.js';
export { DEFAULT_KEY_PREFIX, MAX_RAW_URL_BYTES } from './keys.js';
export { type ExpiryMode, DEFAULT_MAX_AGE_MS, STALE_SET_WINDOW_MS } from './expiry.js';
export type { SetEntryOptions, InvalidateSelector, InvalidationResult } from './policy-options.js';
export { MAX_TAGS_PER_ENTRY, MAX_TAGS_PER_INVALIDATION, MAX_TAG_LENGTH } from './tags.js';
export {
  calibrateThreshold,
  formatCalibrationChart,
  MAX_CALIBRATION_EXAMPLES,
  type CalibrationExample,
  type CalibrationOptions,
  type CalibrationPoint,
  type CalibrationResult,
  type NearestSource,
} from './calibration.js';
export { formatSimilarityHistogram, type SimilarityHistogram } from './histogram.js';
