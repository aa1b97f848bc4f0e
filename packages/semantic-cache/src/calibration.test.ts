import { createMemoryDriver } from '@lix/redis-pool/memory';
import { afterAll, describe, expect, it } from 'vitest';
import { randomVector, seededRandom, vectorAtSimilarity } from '../test/helpers.js';
import { calibrateThreshold, formatCalibrationChart, type CalibrationExample } from './calibration.js';
import { SemanticCacheError } from './errors.js';
import { formatSimilarityHistogram } from './histogram.js';
import { SemanticCache } from './semantic-cache.js';

const driver = createMemoryDriver();
afterAll(() => driver.close());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SemanticCacheError);
  return (error as SemanticCacheError).code;
}

describe('calibrateThreshold', () => {
  const random = seededRandom(99);

  async function labelledCache() {
    const cache = new SemanticCache<{ id: number }>({ driver, sessionId: `cal-${random()}` });
    const stored = Array.from({ length: 3 }, () => randomVector(random));
    for (const [id, vector] of stored.entries()) await cache.set('u', vector, { id });
    // Paraphrases at 0.95 and 0.92 should hit entry 0 and 1; queries at 0.85 and 0.80 should miss.
    const examples: CalibrationExample<{ id: number }>[] = [
      { url: 'u', embedding: vectorAtSimilarity(stored[0]!, 0.95, random), expected: { id: 0 } },
      { url: 'u', embedding: vectorAtSimilarity(stored[1]!, 0.92, random), expected: (response) => response.id === 1 },
      { url: 'u', embedding: vectorAtSimilarity(stored[2]!, 0.85, random), shouldMiss: true },
      { url: 'u', embedding: vectorAtSimilarity(stored[2]!, 0.8, random), shouldMiss: true },
      // Should hit entry 2 but sits at 0.88, below the best cut: a false negative at 0.92.
      { url: 'u', embedding: vectorAtSimilarity(stored[2]!, 0.88, random), expected: { id: 2 } },
    ];
    return { cache, examples };
  }

  it('returns the F1-maximising threshold, the precision-floor threshold and the curve, counting nothing', async () => {
    const { cache, examples } = await labelledCache();
    const result = await calibrateThreshold(cache, examples, { precisionFloor: 1 });
    expect(result.curve.map((point) => point.threshold.toFixed(2))).toEqual(['0.80', '0.85', '0.88', '0.92', '0.95']);
    // At 0.88: 3 right answers, 0 wrong → P 1, R 1.
    expect(result.bestF1.threshold).toBeCloseTo(0.88, 3);
    expect(result.bestF1.precision).toBe(1);
    expect(result.bestF1.recall).toBe(1);
    expect(result.atPrecisionFloor?.threshold).toBeCloseTo(0.88, 3);
    const lowest = result.curve[0]!;
    expect(lowest.falsePositives).toBe(2);
    expect(lowest.precision).toBeCloseTo(3 / 5, 6);
    const highest = result.curve.at(-1)!;
    expect(highest.recall).toBeCloseTo(1 / 3, 6);
    expect(result.positives).toBe(3);
    expect(result.negatives).toBe(2);
    expect((await cache.getStats({ countStored: false })).lookups).toBe(0);
  });

  it('counts a hit on the wrong entry as a false positive', async () => {
    const cache = new SemanticCache<{ id: number }>({ driver, sessionId: `cal-wrong-${random()}` });
    const stored = randomVector(random);
    await cache.set('u', stored, { id: 7 });
    const result = await calibrateThreshold(cache, [{ url: 'u', embedding: vectorAtSimilarity(stored, 0.97, random), expected: { id: 8 } }]);
    expect(result.curve).toHaveLength(1);
    expect(result.curve[0]!.falsePositives).toBe(1);
    expect(result.curve[0]!.truePositives).toBe(0);
    expect(result.atPrecisionFloor).toBeNull();
  });

  it('prints the curve as a text chart marking the chosen thresholds', async () => {
    const { cache, examples } = await labelledCache();
    const chart = formatCalibrationChart(await calibrateThreshold(cache, examples, { precisionFloor: 0.9 }));
    expect(chart).toContain('← best F1');
    expect(chart.split('\n').filter((line) => line.includes(' P ') && line.includes(' R '))).toHaveLength(5);
    expect(chart).toMatch(/precision ≥ 0.9: threshold 0\.88/);
  });

  it('rejects unlabelled, doubly labelled or malformed examples and bad options with typed errors', async () => {
    const { cache, examples } = await labelledCache();
    const embedding = examples[0]!.embedding;
    expect(await codeOf(calibrateThreshold(cache, []))).toBe('INVALID_EXAMPLE');
    expect(await codeOf(calibrateThreshold(cache, [{ url: 'u', embedding }]))).toBe('INVALID_EXAMPLE');
    expect(await codeOf(calibrateThreshold(cache, [{ url: 'u', embedding, expected: { id: 0 }, shouldMiss: true }]))).toBe('INVALID_EXAMPLE');
    expect(await codeOf(calibrateThreshold(cache, [{ url: 'u', embedding, shouldMiss: true }]))).toBe('INVALID_EXAMPLE');
    expect(await codeOf(calibrateThreshold(cache, [{ url: 'u', embedding, expected: { id: 0 }, weight: 2 } as never]))).toBe('INVALID_EXAMPLE');
    expect(await codeOf(calibrateThreshold(cache, examples, { precisionFloor: 1.5 }))).toBe('INVALID_OPTION');
    expect(await codeOf(calibrateThreshold(cache, examples, { precisionFloor: Number.NaN }))).toBe('INVALID_OPTION');
    expect(await codeOf(calibrateThreshold(cache, examples, { floor: 0.9 } as never))).toBe('INVALID_OPTION');
    expect(await codeOf(calibrateThreshold(cache, [{ url: 'u', embedding: [0, 0, 0], expected: { id: 0 } }]))).toBe('INVALID_EMBEDDING');
  });
});

describe('getSimilarityHistogram', () => {
  it('exposes edges and per-bucket hit and miss counts that a chart can plot, and prints them', async () => {
    const random = seededRandom(5);
    const cache = new SemanticCache({ driver, sessionId: 'hist', similarityThreshold: 0.9 });
    const stored = randomVector(random);
    await cache.set('u', stored, 'answer');
    await cache.get('u', vectorAtSimilarity(stored, 0.95, random));
    await cache.get('u', vectorAtSimilarity(stored, 0.87, random));
    const histogram = cache.getSimilarityHistogram();
    expect(histogram.edges).toHaveLength(histogram.hits.length + 1);
    expect(histogram.edges[0]).toBe(-1);
    expect(histogram.edges.at(-1)).toBe(1);
    const bucketOf = (value: number) => histogram.edges.findIndex((edge, i) => value >= edge && value < histogram.edges[i + 1]!);
    expect(histogram.hits[bucketOf(0.95)]).toBe(1);
    expect(histogram.misses[bucketOf(0.87)]).toBe(1);
    expect(histogram.hits.reduce((a, b) => a + b, 0) + histogram.misses.reduce((a, b) => a + b, 0)).toBe(2);
    expect(formatSimilarityHistogram(histogram)).toContain(' <');
  });
});
