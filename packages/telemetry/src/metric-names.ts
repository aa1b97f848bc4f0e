/** One metric every lix-cache layer may report: its name, unit and what it counts. */
export interface MetricDefinition {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

/**
 * Every metric of lix-cache, in OpenTelemetry semantic-convention style: dotted
 * lower-case names under `lix.<layer>.`, durations as histograms in seconds (`s`),
 * counts as counters with a `{unit}` annotation. Redis commands use the database
 * client convention `db.client.operation.duration`. Listed once here so the README,
 * the instrumentation and the tests cannot drift apart.
 */
export const METRICS = {
  semanticCacheHits: { name: 'lix.semantic_cache.hits', unit: '{lookup}', description: 'Lookups answered from the semantic cache.' },
  semanticCacheMisses: {
    name: 'lix.semantic_cache.misses',
    unit: '{lookup}',
    description: 'Lookups not answered (nothing stored, below the threshold, or a race with a trim).',
  },
  semanticCacheBackendErrors: {
    name: 'lix.semantic_cache.backend_errors',
    unit: '{error}',
    description: 'Driver failures seen by the semantic cache, by operation.',
  },
  semanticCacheLookupDuration: { name: 'lix.semantic_cache.lookup.duration', unit: 's', description: 'Duration of semantic cache lookups, by outcome.' },
  semanticCacheSetDuration: {
    name: 'lix.semantic_cache.set.duration',
    unit: 's',
    description: 'Duration of semantic cache writes (tag registration included).',
  },
  semanticCacheSimilarity: {
    name: 'lix.semantic_cache.similarity',
    unit: '1',
    description: 'Best cosine similarity of each lookup that had something to compare, by outcome (negative ones recorded as 0).',
  },
  semanticCacheEvictions: { name: 'lix.semantic_cache.evictions', unit: '{entry}', description: 'Entries dropped by writes: expired or over maxItemsPerUrl.' },
  semanticCacheInvalidated: { name: 'lix.semantic_cache.invalidated', unit: '{entry}', description: 'Entries removed by invalidate({ tags } / { url }).' },
  semanticCacheStaleSets: {
    name: 'lix.semantic_cache.stale_sets',
    unit: '{entry}',
    description: 'Writes refused because one of their tags was invalidated while they were in flight.',
  },
  semanticCacheInvalidateDuration: { name: 'lix.semantic_cache.invalidate.duration', unit: 's', description: 'Duration of invalidate().' },
  urlCacheHits: { name: 'lix.url_embedding_cache.hits', unit: '{url}', description: 'URLs whose embedding was cached.' },
  urlCacheMisses: { name: 'lix.url_embedding_cache.misses', unit: '{url}', description: 'URLs whose embedding was not cached.' },
  urlCacheOperationDuration: {
    name: 'lix.url_embedding_cache.operation.duration',
    unit: 's',
    description: 'Duration of URL embedding cache calls, by lix.operation.',
  },
  archiveAppendDuration: { name: 'lix.archive.append.duration', unit: 's', description: 'Duration of archive appends (appendTurn, appendTurns).' },
  archiveAppendedTurns: {
    name: 'lix.archive.appended_turns',
    unit: '{turn}',
    description: 'Turns stored by archive appends (skipped duplicates not counted).',
  },
  archiveLoadDuration: { name: 'lix.archive.load.duration', unit: 's', description: 'Duration of archive reads (loadAll, loadRecent, loadAfter).' },
  archiveLoadedTurns: { name: 'lix.archive.loaded_turns', unit: '{turn}', description: 'Turns returned by archive reads.' },
  archiveCompactionDuration: { name: 'lix.archive.compaction.duration', unit: 's', description: 'Duration of archive compactions (compact).' },
  archiveOperationDuration: { name: 'lix.archive.operation.duration', unit: 's', description: 'Duration of the other archive calls, by lix.operation.' },
  sessionWindowOperationDuration: {
    name: 'lix.session_window.operation.duration',
    unit: 's',
    description: 'Duration of session window calls, by lix.operation.',
  },
  sessionWindowRebuilds: {
    name: 'lix.session_window.rebuilds',
    unit: '{rebuild}',
    description: 'Hot windows rebuilt from the archive (archive loadRecent/loadAfter made by the windows).',
  },
  dbOperationDuration: {
    name: 'db.client.operation.duration',
    unit: 's',
    description: 'Duration of each Redis command (or in-memory twin), by db.operation.name.',
  },
} as const satisfies Record<string, MetricDefinition>;
