/** Upper edges of the similarity histogram buckets; fine-grained where thresholds are usually set. */
export const HISTOGRAM_EDGES: readonly number[] = [0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 1];

/** One bucket of best similarities seen: `from ≤ s < to` (the last bucket includes 1). */
export interface SimilarityBucket {
  from: number;
  to: number;
  /** Lookups whose best similarity fell here and were hits. */
  hits: number;
  /** Lookups whose best similarity fell here and were misses. */
  misses: number;
}

/** Summary of the best similarities seen by one group of lookups. */
export interface SimilaritySummary {
  count: number;
  /** `null` when `count` is 0. */
  mean: number | null;
  min: number | null;
  max: number | null;
}

/** Tracks best similarities per lookup, in O(1) memory. */
export class SimilarityTracker {
  readonly #hits = new Float64Array(HISTOGRAM_EDGES.length);
  readonly #misses = new Float64Array(HISTOGRAM_EDGES.length);
  #hitSummary = emptyAccumulator();
  #missSummary = emptyAccumulator();

  record(similarity: number, hit: boolean): void {
    let bucket = HISTOGRAM_EDGES.length - 1;
    for (let i = 0; i < HISTOGRAM_EDGES.length; i++) {
      if (similarity < HISTOGRAM_EDGES[i]!) {
        bucket = i;
        break;
      }
    }
    (hit ? this.#hits : this.#misses)[bucket]! += 1;
    accumulate(hit ? this.#hitSummary : this.#missSummary, similarity);
  }

  histogram(): SimilarityBucket[] {
    return HISTOGRAM_EDGES.map((to, i) => ({ from: i === 0 ? -1 : HISTOGRAM_EDGES[i - 1]!, to, hits: this.#hits[i]!, misses: this.#misses[i]! }));
  }

  hitSummary(): SimilaritySummary {
    return summarize(this.#hitSummary);
  }

  missSummary(): SimilaritySummary {
    return summarize(this.#missSummary);
  }

  reset(): void {
    this.#hits.fill(0);
    this.#misses.fill(0);
    this.#hitSummary = emptyAccumulator();
    this.#missSummary = emptyAccumulator();
  }
}

interface Accumulator {
  count: number;
  sum: number;
  min: number;
  max: number;
}

function emptyAccumulator(): Accumulator {
  return { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
}

function accumulate(target: Accumulator, value: number): void {
  target.count += 1;
  target.sum += value;
  if (value < target.min) target.min = value;
  if (value > target.max) target.max = value;
}

function summarize(source: Accumulator): SimilaritySummary {
  if (source.count === 0) return { count: 0, mean: null, min: null, max: null };
  return { count: source.count, mean: source.sum / source.count, min: source.min, max: source.max };
}

/**
 * Backend failures by `KVError` code (`CONNECTION_LOST`, `TIMEOUT`, `COMMAND_FAILED`, …),
 * as `getStats().backendErrors` reports them; a code appears once it has been seen.
 */
export type BackendErrorCounts = Record<string, number>;

/** Counts backend failures by code. */
export class BackendErrorCounter {
  #counts = new Map<string, number>();

  record(code: string): void {
    this.#counts.set(code, (this.#counts.get(code) ?? 0) + 1);
  }

  /** A fresh object, so callers can keep it. */
  snapshot(): BackendErrorCounts {
    return Object.fromEntries(this.#counts);
  }

  /** Every failure counted. */
  get total(): number {
    let sum = 0;
    for (const count of this.#counts.values()) sum += count;
    return sum;
  }

  reset(): void {
    this.#counts = new Map();
  }
}
