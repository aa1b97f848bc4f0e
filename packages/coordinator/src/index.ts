export { ConfigError, isConfigError, type ConfigErrorCode, type ConfigErrorOptions } from './errors.js';
export {
  CacheConfig,
  CONFIG_DEFAULTS,
  CONFIG_FIELDS,
  ARCHIVE_CODECS,
  type CacheConfigOptions,
  type ClusterNode,
  type DriverChoice,
} from './config.js';
export { SingleFlight, getOrCompute, type FlightContext, type FlightOptions } from './single-flight.js';
export { CacheCoordinator, type CacheCoordinatorOptions, type CoordinatorStats, type LookupStats } from './coordinator.js';
export type { ContextMessage, MessageMetadata, SessionWindowLayer, SemanticCacheLayer, UrlEmbeddingLayer } from './layers.js';
export {
  CacheRuntime,
  type CacheRuntimeOptions,
  type LayerContext,
  type LayerSlot,
  type RuntimeStats,
  type SessionWindowFactory,
  type SemanticCacheFactory,
  type UrlEmbeddingFactory,
  type SharedResources,
  type EvictionResult,
} from './runtime.js';
export {
  createCacheRuntime,
  standardSessionWindow,
  standardSemanticCache,
  standardUrlEmbeddingCache,
  createArchiveStore,
  migrateArchive,
  type CreateCacheRuntimeOptions,
  type SemanticResponse,
} from './standard.js';
export { DeferredArchiveStore } from './deferred-archive.js';
