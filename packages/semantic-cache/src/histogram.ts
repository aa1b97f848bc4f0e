import type { SimilarityBucket } from './stats.js';

/** A similarity histogram in a form a chart library takes as it is. */
export interface SimilarityHistogram {
  scope: 'session' | 'shared';
  sessionId: string;
  similarityThreshold: number;
  /** `edges[i]` to `edges[i + 1]` is bucket `i` (length: buckets + 1). */
  edges: number[];
  /** Lookups per bucket that were hits. */
  hits: number[];
  /** Lookups per bucket that were misses. */
  misses: number[];
  /** The same as rows, for tables and CSV. */
  buckets: SimilarityBucket[];
}

/** Turns buckets into a {@link SimilarityHistogram}. */
export function similarityHistogramOf(
  buckets: SimilarityBucket[],
  about: { scope: 'session' | 'shared'; sessionId: string; similarityThreshold: number },
): SimilarityHistogram {
  return {
    ...about,
    edges: buckets.length === 0 ? [] : [buckets[0]!.from, ...buckets.map((bucket) => bucket.to)],
    hits: buckets.map((bucket) => bucket.hits),
    misses: buckets.map((bucket) => bucket.misses),
    buckets,
  };
}

/**
 * A text chart of a histogram, one row per bucket with hits (`#`) and misses (`.`),
 * `width` characters for the largest bucket; the threshold's bucket is marked `<`.
 */
export function formatSimilarityHistogram(histogram: SimilarityHistogram, width = 40): string {
  const largest = Math.max(1, ...histogram.buckets.map((bucket) => bucket.hits + bucket.misses));
  const lines = [`similarity histogram (${histogram.scope} ${histogram.sessionId}, threshold ${histogram.similarityThreshold})`];
  for (const bucket of histogram.buckets) {
    const hits = Math.round((bucket.hits / largest) * width);
    const misses = Math.round((bucket.misses / largest) * width);
    const marker = histogram.similarityThreshold >= bucket.from && histogram.similarityThreshold < bucket.to ? ' <' : '';
    lines.push(
      `${bucket.from.toFixed(2).padStart(5)}–${bucket.to.toFixed(2).padEnd(5)} ${'#'.repeat(hits)}${'.'.repeat(misses)} ${bucket.hits}/${bucket.misses}${marker}`,
    );
  }
  return lines.join('\n');
}
