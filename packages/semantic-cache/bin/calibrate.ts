/**
 * `pnpm --filter @lix/semantic-cache calibrate [examples.json]`
 *
 * Prints the precision/recall curve of a semantic cache as a text chart, with the
 * threshold of best F1 and the one keeping precision ≥ the floor.
 *
 * - With a file: `{ "redisUrl"?: string, "sessionId": string, "keyPrefix"?: string,
 *   "scope"?: "session" | "shared", "precisionFloor"?: number, "examples": [{ "url",
 *   "embedding": number[], "expected": <response> } | { "url", "embedding", "shouldMiss": true }] }`.
 *   Without `redisUrl` the entries must be in the file too (`"entries": [{ "url",
 *   "embedding", "response" }]`), loaded into an in-memory cache.
 * - Without a file: a demonstration on synthetic paraphrases (seeded, reproducible).
 */
import { readFileSync } from 'node:fs';
import type { KVDriver } from '@lix/redis-pool';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { SemanticCache, calibrateThreshold, formatCalibrationChart, type CalibrationExample } from '../src/index.js';
import { randomVector, seededRandom, vectorAtSimilarity } from '../test/helpers.js';

interface CalibrationFile {
  redisUrl?: string;
  sessionId: string;
  keyPrefix?: string;
  scope?: 'session' | 'shared';
  precisionFloor?: number;
  entries?: { url: string; embedding: number[]; response: unknown }[];
  examples: CalibrationExample<unknown>[];
}

async function demo(): Promise<{ cache: SemanticCache<unknown>; examples: CalibrationExample<unknown>[]; floor: number; close(): Promise<void> }> {
  const driver = createMemoryDriver();
  const cache = new SemanticCache<unknown>({ driver, sessionId: 'calibration-demo' });
  const random = seededRandom(42);
  const examples: CalibrationExample<unknown>[] = [];
  for (let id = 0; id < 40; id++) {
    const stored = randomVector(random);
    await cache.set('https://example.com/faq', stored, { answer: id });
    // Paraphrases spread over 0.82–0.99, and unrelated-but-close queries over 0.70–0.93.
    examples.push({ url: 'https://example.com/faq', embedding: vectorAtSimilarity(stored, 0.82 + random() * 0.17, random), expected: { answer: id } });
    examples.push({ url: 'https://example.com/faq', embedding: vectorAtSimilarity(stored, 0.7 + random() * 0.23, random), shouldMiss: true });
  }
  return { cache, examples, floor: 0.95, close: () => driver.close() };
}

async function fromFile(
  path: string,
): Promise<{ cache: SemanticCache<unknown>; examples: CalibrationExample<unknown>[]; floor: number; close(): Promise<void> }> {
  const file = JSON.parse(readFileSync(path, 'utf8')) as CalibrationFile;
  let driver: KVDriver;
  if (file.redisUrl !== undefined) {
    const { createIoredisDriver } = await import('@lix/redis-pool/ioredis');
    driver = createIoredisDriver({ url: file.redisUrl });
  } else {
    driver = createMemoryDriver();
  }
  const cache = new SemanticCache<unknown>({
    driver,
    sessionId: file.sessionId,
    ...(file.keyPrefix ? { keyPrefix: file.keyPrefix } : {}),
    ...(file.scope ? { scope: file.scope } : {}),
  });
  for (const entry of file.entries ?? []) await cache.set(entry.url, entry.embedding, entry.response);
  return { cache, examples: file.examples, floor: file.precisionFloor ?? 0.95, close: () => driver.close() };
}

const path = process.argv[2];
const run = path === undefined ? await demo() : await fromFile(path);
try {
  const result = await calibrateThreshold(run.cache, run.examples, { precisionFloor: run.floor });
  process.stdout.write(`${formatCalibrationChart(result)}\n`);
} finally {
  await run.close();
}
