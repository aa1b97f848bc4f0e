import { isDeepStrictEqual } from 'node:util';
import { SemanticCacheError } from './errors.js';
import type { SemanticCacheHit } from './semantic-cache.js';
import type { EmbeddingInput } from './vector.js';

/**
 * One labelled query: the embedding of a query on `url`, and either the response it
 * should be answered with (`expected`: a value compared by deep equality, or a predicate)
 * or `shouldMiss: true` when no stored entry is a right answer.
 */
export interface CalibrationExample<T> {
  url: string;
  embedding: EmbeddingInput;
  expected?: T | ((response: T) => boolean);
  shouldMiss?: true;
  /** Free text carried into nothing but your own logs. */
  label?: string;
}

/** Options of {@link calibrateThreshold}. */
export interface CalibrationOptions {
  /** The precision the `atPrecisionFloor` threshold must keep, in [0, 1] (default 0.95). */
  precisionFloor?: number;
}

/** One point of the precision/recall curve. */
export interface CalibrationPoint {
  /** A lookup hits when its best similarity is ≥ this. */
  threshold: number;
  /** Right answers among the answers served (1 when nothing is served). */
  precision: number;
  /** Right answers among the queries that have one. */
  recall: number;
  f1: number;
  truePositives: number;
  /** Answers served that were wrong: a hit on a should-miss query, or the wrong entry. */
  falsePositives: number;
  /** Queries with a right answer that were not served it. */
  falseNegatives: number;
  trueNegatives: number;
}

/** What {@link calibrateThreshold} found. */
export interface CalibrationResult {
  /** The threshold of highest F1 (the higher threshold on a tie). */
  bestF1: CalibrationPoint;
  /** The threshold of highest recall whose precision is ≥ the floor; `null` when none reaches it. */
  atPrecisionFloor: CalibrationPoint | null;
  precisionFloor: number;
  /** One point per distinct best similarity, by increasing threshold. */
  curve: CalibrationPoint[];
  positives: number;
  negatives: number;
}

/** Anything that reports the nearest entry without counting it (a `SemanticCache`). */
export interface NearestSource<T> {
  nearest(url: string, embedding: EmbeddingInput): Promise<SemanticCacheHit<T> | null>;
}

/** Most examples one call takes. */
export const MAX_CALIBRATION_EXAMPLES = 100_000;
const EXAMPLE_KEYS = new Set(['url', 'embedding', 'expected', 'shouldMiss', 'label']);
const OPTION_KEYS = new Set(['precisionFloor']);

function invalidExample(index: number, reason: string): SemanticCacheError {
  return new SemanticCacheError('INVALID_EXAMPLE', `Calibration example ${index} ${reason}`);
}

function checkExamples<T>(examples: unknown): CalibrationExample<T>[] {
  if (!Array.isArray(examples) || examples.length === 0)
    throw new SemanticCacheError('INVALID_EXAMPLE', 'calibrateThreshold needs a non-empty array of labelled examples.');
  if (examples.length > MAX_CALIBRATION_EXAMPLES)
    throw new SemanticCacheError('INVALID_EXAMPLE', `calibrateThreshold takes at most ${MAX_CALIBRATION_EXAMPLES} examples, got ${examples.length}.`);
  let positives = 0;
  examples.forEach((example: unknown, index) => {
    if (example === null || typeof example !== 'object') throw invalidExample(index, 'is not an object.');
    for (const key of Object.keys(example))
      if (!EXAMPLE_KEYS.has(key)) throw invalidExample(index, `has an unknown key "${key}" (url, embedding, expected, shouldMiss, label).`);
    const { expected, shouldMiss } = example as CalibrationExample<T>;
    const labelled = (expected !== undefined ? 1 : 0) + (shouldMiss !== undefined ? 1 : 0);
    if (labelled === 0) throw invalidExample(index, 'is unlabelled: give expected (the response it should get) or shouldMiss: true.');
    if (labelled === 2) throw invalidExample(index, 'has both expected and shouldMiss; give one.');
    if (shouldMiss !== undefined && shouldMiss !== true) throw invalidExample(index, 'has shouldMiss other than true.');
    if (expected !== undefined) positives++;
  });
  if (positives === 0)
    throw new SemanticCacheError(
      'INVALID_EXAMPLE',
      'calibrateThreshold needs at least one example with an expected response (recall is undefined without one).',
    );
  return examples as CalibrationExample<T>[];
}

interface Observation {
  similarity: number;
  positive: boolean;
  correct: boolean;
}

function pointAt(threshold: number, observations: readonly Observation[], positives: number): CalibrationPoint {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  for (const { similarity, positive, correct } of observations) {
    const hit = similarity >= threshold;
    if (hit && positive && correct) tp++;
    else if (hit) fp++;
    else if (!positive) tn++;
  }
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp / positives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, precision, recall, f1, truePositives: tp, falsePositives: fp, falseNegatives: positives - tp, trueNegatives: tn };
}

/**
 * Finds the similarity threshold that serves labelled queries best: each query is looked
 * up with `cache.nearest` (which counts nothing and never extends an entry), then every
 * distinct best similarity is tried as a threshold. Returns the F1-maximising threshold,
 * the highest-recall one that keeps precision ≥ `precisionFloor`, and the whole curve.
 * Rejects with `INVALID_EXAMPLE` for unlabelled or malformed examples and
 * `INVALID_OPTION` for a floor outside [0, 1] or an unknown option.
 */
export async function calibrateThreshold<T>(
  cache: NearestSource<T>,
  examples: readonly CalibrationExample<T>[],
  options: CalibrationOptions = {},
): Promise<CalibrationResult> {
  if (cache === null || typeof cache !== 'object' || typeof cache.nearest !== 'function')
    throw new SemanticCacheError('INVALID_OPTION', 'calibrateThreshold needs a SemanticCache (anything with nearest()).');
  if (options === null || typeof options !== 'object') throw new SemanticCacheError('INVALID_OPTION', 'calibrateThreshold options must be an object.');
  for (const key of Object.keys(options))
    if (!OPTION_KEYS.has(key)) throw new SemanticCacheError('INVALID_OPTION', `Unknown calibrateThreshold option "${key}"; the option is precisionFloor.`);
  const floor = options.precisionFloor ?? 0.95;
  if (typeof floor !== 'number' || !(floor >= 0 && floor <= 1))
    throw new SemanticCacheError('INVALID_OPTION', `precisionFloor must be a number in [0, 1], got ${String(floor)}.`);
  const checked = checkExamples<T>(examples);
  const observations: Observation[] = [];
  let positives = 0;
  for (const example of checked) {
    const positive = example.expected !== undefined;
    if (positive) positives++;
    const nearest = await cache.nearest(example.url, example.embedding);
    if (nearest === null) continue;
    const expected = example.expected;
    const correct =
      positive &&
      (typeof expected === 'function' ? (expected as (response: T) => boolean)(nearest.response) === true : isDeepStrictEqual(nearest.response, expected));
    observations.push({ similarity: nearest.similarity, positive, correct });
  }
  const thresholds = [...new Set(observations.map((observation) => observation.similarity))].sort((a, b) => a - b);
  if (thresholds.length === 0) thresholds.push(1);
  const curve = thresholds.map((threshold) => pointAt(threshold, observations, positives));
  let bestF1 = curve[0]!;
  for (const point of curve) if (point.f1 >= bestF1.f1) bestF1 = point;
  let atPrecisionFloor: CalibrationPoint | null = null;
  for (const point of curve)
    if (point.precision >= floor && point.truePositives > 0 && (atPrecisionFloor === null || point.recall >= atPrecisionFloor.recall)) atPrecisionFloor = point;
  return { bestF1, atPrecisionFloor, precisionFloor: floor, curve, positives, negatives: checked.length - positives };
}

/**
 * The precision/recall curve as a text chart: one row per threshold (at most `rows`,
 * evenly sampled, the chosen thresholds always shown), bars for precision (`P`) and
 * recall (`R`), F1, and markers for the best-F1 and precision-floor thresholds.
 */
export function formatCalibrationChart(result: CalibrationResult, options: { width?: number; rows?: number } = {}): string {
  const width = options.width ?? 30;
  const rows = options.rows ?? 24;
  const { curve } = result;
  const step = Math.max(1, Math.ceil(curve.length / rows));
  const shown = curve.filter(
    (point, index) => index % step === 0 || point === result.bestF1 || point === result.atPrecisionFloor || index === curve.length - 1,
  );
  const bar = (value: number) => '█'.repeat(Math.round(value * width)).padEnd(width, '·');
  const lines = [
    `precision/recall by threshold (${result.positives} should-hit, ${result.negatives} should-miss examples)`,
    `threshold  precision${' '.repeat(width - 8)}recall${' '.repeat(width - 5)}  F1`,
  ];
  for (const point of shown) {
    const marks = [point === result.bestF1 ? 'best F1' : '', point === result.atPrecisionFloor ? `precision ≥ ${result.precisionFloor}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(
      `${point.threshold.toFixed(4).padStart(9)}  P ${bar(point.precision)} R ${bar(point.recall)}  ${point.f1.toFixed(3)}${marks ? `  ← ${marks}` : ''}`,
    );
  }
  lines.push(
    `best F1: threshold ${result.bestF1.threshold.toFixed(4)} (precision ${result.bestF1.precision.toFixed(3)}, recall ${result.bestF1.recall.toFixed(3)}, F1 ${result.bestF1.f1.toFixed(3)})`,
  );
  lines.push(
    result.atPrecisionFloor === null
      ? `no threshold keeps precision ≥ ${result.precisionFloor}`
      : `precision ≥ ${result.precisionFloor}: threshold ${result.atPrecisionFloor.threshold.toFixed(4)} (precision ${result.atPrecisionFloor.precision.toFixed(3)}, recall ${result.atPrecisionFloor.recall.toFixed(3)})`,
  );
  return lines.join('\n');
}
