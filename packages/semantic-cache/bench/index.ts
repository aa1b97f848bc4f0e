/**
 * Semantic-cache benchmark. Per driver (ioredis, node-redis, and in-memory as an extra row),
 * against one throwaway redis-server started here:
 *
 * - `get` hit and miss with 50 stored 384-dimension entries, next to a raw GET of the same
 *   number of bytes (the packed vector string) through the same driver connection;
 * - the pure similarity scan over 50×384 in µs;
 * - MEMORY USAGE per entry (SAMPLES 0, exact) next to 4 × dimensions + serialised response;
 * - `batchGet` of 100 URLs next to a raw MGET of the same keys through the same driver.
 *
 * Medians over RUNS runs; ours and the reference alternate within each run so load drift
 * hits both alike. Responses are real assistant turns from fixtures/ (via @lix/test-utils).
 */
import { cpus, loadavg } from 'node:os';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { SemanticCache, UrlEmbeddingCache } from '../src/index.js';
import { scopeKeys } from '../src/keys.js';
import { readHeader, scanBestMatch } from '../src/records.js';
import { encodeResponse } from '../src/serialization.js';
import { normalizeEmbedding } from '../src/vector.js';
import { randomVector, seededRandom, vectorAtSimilarity } from '../test/helpers.js';
import { benchPolicies } from './policies.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const OPS = Number(process.env.BENCH_OPS ?? 300);
const DIMENSIONS = 384;
const ENTRIES = 50;
const BATCH = 100;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Mean µs per call of `op` over `count` sequential calls. */
async function timeAsync(op: () => Promise<unknown>, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await op();
  return Number(process.hrtime.bigint() - start) / 1000 / count;
}

/** Medians of ours and reference, alternating within each run. */
async function compare(ours: () => Promise<unknown>, reference: () => Promise<unknown>): Promise<{ ours: number; reference: number }> {
  await timeAsync(ours, Math.min(50, OPS));
  await timeAsync(reference, Math.min(50, OPS));
  const a: number[] = [];
  const b: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    a.push(await timeAsync(ours, OPS));
    b.push(await timeAsync(reference, OPS));
  }
  return { ours: median(a), reference: median(b) };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Per-call µs of each of `count` sequential calls. */
async function sampleAsync(op: () => Promise<unknown>, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  }
}

/** Like compare, also with the mean and p99 of every single call of the runs. */
async function compareDetailed(ours: () => Promise<unknown>, reference: () => Promise<unknown>) {
  await timeAsync(ours, Math.min(50, OPS));
  await timeAsync(reference, Math.min(50, OPS));
  const a: number[] = [];
  const b: number[] = [];
  const allA: number[] = [];
  const allB: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const fromA = allA.length;
    await sampleAsync(ours, OPS, allA);
    a.push(allA.slice(fromA).reduce((sum, v) => sum + v, 0) / OPS);
    const fromB = allB.length;
    await sampleAsync(reference, OPS, allB);
    b.push(allB.slice(fromB).reduce((sum, v) => sum + v, 0) / OPS);
  }
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  return {
    ours: median(a),
    reference: median(b),
    oursMean: mean(allA),
    referenceMean: mean(allB),
    oursP99: percentile(allA, 99),
    referenceP99: percentile(allB, 99),
  };
}

interface Row {
  figure: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
}

const us = (value: number) => `${value.toFixed(1)} µs`;

const corpus = loadCorpus();
const answers = corpus.flatMap((conversation) => conversation.turns.filter((turn) => turn.role === 'assistant').map((turn) => turn.content));
const random = seededRandom(2024);
const stored = Array.from({ length: ENTRIES }, (_, i) => ({
  vector: randomVector(random, DIMENSIONS),
  response: { answer: answers[i % answers.length]!, model: 'gpt-4o-mini', tokens: 128 + i },
}));

async function benchDriver(name: string, driver: KVDriver, memoryUsage: ((key: string) => Promise<number>) | undefined): Promise<Row[]> {
  const prefix = `bench:${name}`;
  const cache = new SemanticCache({ driver, sessionId: 'bench-session', keyPrefix: prefix });
  await cache.clearSession();
  for (const entry of stored) await cache.set('https://weather.com', entry.vector, entry.response);
  const keys = scopeKeys(prefix, 'session', 'bench-session', 'https://weather.com');
  const packed = (await driver.get(keys.vectors))!;
  const rawKey = `${prefix}:raw`;
  await driver.set(rawKey, new Uint8Array(packed.length).fill(7));

  const hitQuery = vectorAtSimilarity(stored[17]!.vector, 0.95, random);
  const missQuery = randomVector(random, DIMENSIONS);
  if ((await cache.get('https://weather.com', hitQuery)) === null) throw new Error('bench: expected a hit');
  if ((await cache.get('https://weather.com', missQuery)) !== null) throw new Error('bench: expected a miss');

  const rows: Row[] = [];
  const miss = await compare(
    () => cache.get('https://weather.com', missQuery),
    () => driver.get(rawKey),
  );
  rows.push({
    figure: `get miss (50×384) vs raw GET ${packed.length} B`,
    ours: us(miss.ours),
    reference: us(miss.reference),
    ratio: `${(miss.ours / miss.reference).toFixed(2)}×`,
    target: '≤ 1.5×',
  });
  const hit = await compare(
    () => cache.get('https://weather.com', hitQuery),
    () => driver.get(rawKey),
  );
  rows.push({
    figure: `get hit (GET + HGET) vs raw GET ${packed.length} B`,
    ours: us(hit.ours),
    reference: us(hit.reference),
    ratio: `${(hit.ours / hit.reference).toFixed(2)}×`,
    target: '—',
  });

  if (memoryUsage !== undefined) {
    const bytes = (await memoryUsage(keys.vectors)) + (await memoryUsage(keys.responses));
    const payload = stored.reduce((sum, entry) => sum + 4 * DIMENSIONS + encodeResponse(entry.response, 1 << 20).length, 0);
    rows.push({
      figure: 'memory per entry vs 4·dim + response',
      ours: `${(bytes / ENTRIES).toFixed(0)} B`,
      reference: `${(payload / ENTRIES).toFixed(0)} B`,
      ratio: `${(bytes / payload).toFixed(2)}×`,
      target: '≤ 1.2×',
    });
  }

  const urls = new UrlEmbeddingCache({ driver, modelId: 'all-MiniLM-L6-v2', keyPrefix: prefix });
  const urlList = Array.from({ length: BATCH }, (_, i) => `https://site-${i}.example.com/article/${i}`);
  await urls.batchSet(urlList.map((url) => [url, randomVector(random, DIMENSIONS)] as const));
  const urlKeys = urlList.map((url) => urls.keyOf(url));
  const batch = await compare(
    () => urls.batchGet(urlList),
    () => driver.mget(urlKeys),
  );
  // Throughput ratio: ≥ 0.8× means batchGet takes at most 1.25× the raw MGET time.
  rows.push({
    figure: `batchGet(${BATCH}) vs raw MGET`,
    ours: us(batch.ours),
    reference: us(batch.reference),
    ratio: `${(batch.reference / batch.ours).toFixed(2)}× speed`,
    target: '≥ 0.8×',
  });
  await cache.clearSession();
  if (process.env.BENCH_POLICIES !== '0') rows.push(...(await benchPolicies(name, driver, stored, random, compareDetailed, RUNS * OPS)));
  return rows;
}

function scanRow(packed: Uint8Array): Row {
  const { dimensions, count } = readHeader(packed);
  const query = normalizeEmbedding(randomVector(random, DIMENSIONS));
  const now = Date.now();
  const iterations = 2000;
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) scanBestMatch(packed, dimensions, count, query, now);
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) scanBestMatch(packed, dimensions, count, query, now);
    samples.push(Number(process.hrtime.bigint() - start) / 1000 / iterations);
  }
  return { figure: 'similarity scan 50×384 (pure)', ours: us(median(samples)), reference: '—', ratio: '—', target: '≤ 50 µs' };
}

function printTable(title: string, rows: Row[]): void {
  console.log(`\n### ${title}\n`);
  console.log('| figure | ours | reference | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(`| ${row.figure} | ${row.ours} | ${row.reference} | ${row.ratio} | ${row.target} |`);
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
console.log(`runs: ${RUNS} × ${OPS} sequential ops per figure, medians; redis-server started by the bench on a free port`);

const server = await startRedisServer();
try {
  const exactUsage = async (key: string) => Number((await server.cli('memory', 'usage', key, 'samples', '0')).trim());
  const memory = createMemoryDriver();
  const memoryCache = new SemanticCache({ driver: memory, sessionId: 's', keyPrefix: 'scan' });
  for (const entry of stored) await memoryCache.set('u', entry.vector, entry.response);
  const packed = (await memory.get(scopeKeys('scan', 'session', 's', 'u').vectors))!;
  printTable('pure', [scanRow(packed)]);

  for (const [name, create] of [
    ['ioredis', () => createIoredisDriver({ url: server.url })],
    ['node-redis', () => createNodeRedisDriver({ url: server.url })],
  ] as const) {
    const driver = create();
    await driver.connect();
    try {
      printTable(name, await benchDriver(name, driver, exactUsage));
    } finally {
      await driver.close();
    }
  }
  printTable('memory (in-process driver, no network)', await benchDriver('memory', memory, undefined));
  await memory.close();
} finally {
  await server.stop();
}
