import { describeEachDriver, type DriverTarget } from '@lix/driver-matrix';
import { systemClock, type Clock, type KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { beforeAll, expect, it } from 'vitest';
import { ManualClock, randomVector, seededRandom, sleep, vectorAtSimilarity } from '../test/helpers.js';
import { SemanticCacheError } from './errors.js';
import { scopeKeys } from './keys.js';
import { SemanticCache, type SemanticCacheOptions } from './semantic-cache.js';

interface Env {
  driver: KVDriver;
  clock: Clock;
  /** Moves time forward: the manual clock on the memory target, a real sleep on Redis. */
  advance(ms: number): Promise<void>;
}

function setup(target: DriverTarget): Env {
  const env = {} as Env;
  beforeAll(async () => {
    if (target.kind === 'memory') {
      const clock = new ManualClock();
      env.clock = clock;
      env.advance = async (ms) => clock.advance(ms);
      env.driver = await target.createDriver({ clock });
    } else {
      env.clock = systemClock;
      env.advance = sleep;
      env.driver = await target.createDriver();
    }
  });
  return env;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SemanticCacheError);
  expect((error as SemanticCacheError).code).toBe(code);
}

describeEachDriver('SemanticCache', (target) => {
  const env = setup(target);
  const random = seededRandom(7);
  const cache = (overrides: Partial<SemanticCacheOptions> = {}, prefix = uniquePrefix('sc')) =>
    new SemanticCache<{ answer: string }>({ driver: env.driver, sessionId: 'session-1', keyPrefix: prefix, clock: env.clock, ...overrides });

  it('misses on an empty scope and hits the stored response for the same query', async () => {
    const layer = cache();
    const query = randomVector(random);
    expect(await layer.get('https://weather.com', query)).toBeNull();
    await layer.set('https://weather.com', query, { answer: 'sunny' });
    expect(await layer.get('https://weather.com', query)).toEqual({ answer: 'sunny' });
    const hit = await layer.lookup('https://weather.com', Array.from(query));
    expect(hit?.similarity).toBeGreaterThan(0.9999);
  });

  it('hits at or above the threshold and misses below it', async () => {
    const layer = cache({ similarityThreshold: 0.9 });
    const stored = randomVector(random);
    await layer.set('u', stored, { answer: 'a' });
    expect(await layer.get('u', vectorAtSimilarity(stored, 0.93, random))).toEqual({ answer: 'a' });
    const nearMiss = vectorAtSimilarity(stored, 0.85, random);
    expect(await layer.get('u', nearMiss)).toBeNull();
    const tuned = await layer.lookup('u', nearMiss, { similarityThreshold: 0.8 });
    expect(tuned?.response).toEqual({ answer: 'a' });
    expect(tuned?.similarity).toBeCloseTo(0.85, 4);
  });

  it('answers with the most similar of several stored queries', async () => {
    const layer = cache();
    const query = randomVector(random);
    await layer.set('u', vectorAtSimilarity(query, 0.91, random), { answer: 'close' });
    await layer.set('u', vectorAtSimilarity(query, 0.97, random), { answer: 'closest' });
    await layer.set('u', vectorAtSimilarity(query, 0.2, random), { answer: 'far' });
    const hit = await layer.lookup('u', query);
    expect(hit?.response).toEqual({ answer: 'closest' });
    expect(hit?.similarity).toBeCloseTo(0.97, 4);
  });

  it('keeps sessions and URLs apart, and shares only in the shared scope', async () => {
    const prefix = uniquePrefix('sc');
    const query = randomVector(random);
    await cache({ sessionId: 'alice' }, prefix).set('u', query, { answer: 'alice' });
    expect(await cache({ sessionId: 'bob' }, prefix).get('u', query)).toBeNull();
    expect(await cache({ sessionId: 'alice' }, prefix).get('other-url', query)).toBeNull();
    await cache({ sessionId: 'alice', scope: 'shared' }, prefix).set('u', query, { answer: 'shared' });
    expect(await cache({ sessionId: 'bob', scope: 'shared' }, prefix).get('u', query)).toEqual({ answer: 'shared' });
    expect(await cache({ sessionId: 'bob' }, prefix).get('u', query)).toBeNull();
  });

  it('keeps at most maxItemsPerUrl entries, dropping the oldest first, responses included', async () => {
    const prefix = uniquePrefix('sc');
    const layer = cache({ maxItemsPerUrl: 3 }, prefix);
    const queries = Array.from({ length: 5 }, () => randomVector(random));
    for (const [i, query] of queries.entries()) await layer.set('u', query, { answer: `#${i}` });
    for (const [i, query] of queries.entries()) {
      expect(await layer.get('u', query)).toEqual(i < 2 ? null : { answer: `#${i}` });
    }
    const fields = Object.keys(await env.driver.hgetall(scopeKeys(prefix, 'session', 'session-1', 'u').responses)).sort();
    expect(fields).toEqual(['#', '00000003', '00000004', '00000005']);
    const stats = await layer.getStats();
    expect(stats.evictions).toBe(2);
    expect(stats.storedEntries).toBe(3);
    expect(stats.storedUrls).toBe(1);
  });

  it('expires entries one by one while the scope stays active, then the keys themselves', async () => {
    const prefix = uniquePrefix('sc');
    // Margins of 200 ms on Redis (real time): the second entry must still be live after the
    // second wait, even when a loaded machine oversleeps.
    const layer = cache({ ttlMs: 500 }, prefix);
    const first = randomVector(random);
    const second = randomVector(random);
    await layer.set('u', first, { answer: 'first' });
    await env.advance(300);
    await layer.set('u', second, { answer: 'second' });
    await env.advance(300);
    expect(await layer.get('u', first)).toBeNull();
    expect(await layer.get('u', second)).toEqual({ answer: 'second' });
    const keys = scopeKeys(prefix, 'session', 'session-1', 'u');
    const third = randomVector(random);
    await layer.set('u', third, { answer: 'third' });
    expect(Object.keys(await env.driver.hgetall(keys.responses)).sort()).toEqual(['#', '00000002', '00000003']);
    await env.advance(600);
    expect(await layer.get('u', third)).toBeNull();
    expect(await env.driver.exists(keys.vectors)).toBe(false);
    expect(await env.driver.exists(keys.responses)).toBe(false);
  });

  it('refuses a query or entry of another dimension while such entries are live', async () => {
    const layer = cache({ ttlMs: 500 });
    await layer.set('u', randomVector(random, 384), { answer: 'x' });
    await expectCode(layer.get('u', randomVector(random, 768)), 'DIMENSION_MISMATCH');
    await expectCode(layer.set('u', randomVector(random, 768), { answer: 'y' }), 'DIMENSION_MISMATCH');
    await env.advance(600);
    const other = randomVector(random, 768);
    await layer.set('u', other, { answer: 'new model' });
    expect(await layer.get('u', other)).toEqual({ answer: 'new model' });
  });

  it('refuses bad input with typed errors and writes nothing', async () => {
    const prefix = uniquePrefix('sc');
    const layer = cache({}, prefix);
    const good = randomVector(random);
    await expectCode(layer.set('u', new Float32Array(384), { answer: 'x' }), 'INVALID_EMBEDDING');
    await expectCode(layer.set('u', [1, Number.NaN, 2], { answer: 'x' }), 'INVALID_EMBEDDING');
    await expectCode(layer.get('u', [Number.POSITIVE_INFINITY, 1]), 'INVALID_EMBEDDING');
    await expectCode(layer.set('u', good, { answer: (() => 'x') as unknown as string }), 'UNSERIALIZABLE_RESPONSE');
    await expectCode(layer.set('', good, { answer: 'x' }), 'INVALID_URL');
    await expectCode(layer.lookup('u', good, { similarityThreshold: 1.5 }), 'INVALID_OPTION');
    expect(() => cache({ similarityThreshold: -1.01 })).toThrow(SemanticCacheError);
    expect(() => cache({ similarityThreshold: Number.NaN })).toThrow(SemanticCacheError);
    expect(() => cache({ maxItemsPerUrl: 0 })).toThrow(SemanticCacheError);
    expect(() => cache({ ttlMs: -5 })).toThrow(SemanticCacheError);
    expect(() => cache({ sessionId: '' })).toThrow(SemanticCacheError);
    // The same session-id rule as the session window and the archive: 512 code units, well-formed Unicode.
    expect(() => cache({ sessionId: 'x'.repeat(513) })).toThrow(/limit is 512/);
    expect(() => cache({ sessionId: 'a\uD800' })).toThrow(/lone UTF-16 surrogate/);
    expect(cache({ sessionId: 'é'.repeat(512) })).toBeInstanceOf(SemanticCache);
    expect(await env.driver.exists(scopeKeys(prefix, 'session', 'session-1', 'u').vectors)).toBe(false);
  });

  it('reports foreign data under its key as CORRUPT_ENTRY instead of misreading it', async () => {
    const prefix = uniquePrefix('sc');
    const layer = cache({}, prefix);
    await env.driver.set(scopeKeys(prefix, 'session', 'session-1', 'u').vectors, new TextEncoder().encode('{"legacy":"json blob"}'));
    await expectCode(layer.get('u', randomVector(random)), 'CORRUPT_ENTRY');
    await expectCode(layer.set('u', randomVector(random), { answer: 'x' }), 'CORRUPT_ENTRY');
    expect(await layer.clearSession()).toBe(1);
    await layer.set('u', randomVector(random), { answer: 'x' });
  });

  it('clearSession deletes every URL of its own session only, without KEYS', async () => {
    const prefix = uniquePrefix('sc');
    const mine = cache({ sessionId: 'mine' }, prefix);
    const theirs = cache({ sessionId: 'theirs' }, prefix);
    const query = randomVector(random);
    for (const url of ['a', 'b', 'c']) await mine.set(url, query, { answer: url });
    await theirs.set('a', query, { answer: 'theirs' });
    expect(await mine.clearSession()).toBe(6);
    for (const url of ['a', 'b', 'c']) expect(await mine.get(url, query)).toBeNull();
    expect(await theirs.get('a', query)).toEqual({ answer: 'theirs' });
    expect((await mine.getStats()).storedEntries).toBe(0);
    expect(await mine.clearSession()).toBe(0);
  });

  it('counts hits, misses and best similarities for threshold tuning', async () => {
    const layer = cache({ similarityThreshold: 0.9 });
    const stored = randomVector(random);
    await layer.get('u', stored);
    await layer.set('u', stored, { answer: 'a' });
    await layer.get('u', vectorAtSimilarity(stored, 0.95, random));
    await layer.get('u', vectorAtSimilarity(stored, 0.87, random));
    await layer.get('u', vectorAtSimilarity(stored, 0.81, random));
    const stats = await layer.getStats();
    expect(stats).toMatchObject({ lookups: 4, hits: 1, misses: 3, hitRate: 0.25, emptyMisses: 1, sets: 1, storedEntries: 1 });
    expect(stats.hitSimilarity.count).toBe(1);
    expect(stats.hitSimilarity.mean!).toBeCloseTo(0.95, 4);
    expect(stats.missSimilarity.max!).toBeCloseTo(0.87, 4);
    expect(stats.missSimilarity.min!).toBeCloseTo(0.81, 4);
    const bucket = stats.similarityHistogram.find((b) => b.from <= 0.87 && 0.87 < b.to)!;
    expect(bucket.misses).toBe(1);
    expect(stats.similarityHistogram.reduce((sum, b) => sum + b.hits + b.misses, 0)).toBe(3);
    layer.resetStats();
    expect((await layer.getStats({ countStored: false })).lookups).toBe(0);
  });

  it('loses no entry when many connections write one scope at once', async () => {
    const prefix = uniquePrefix('sc');
    const drivers = target.kind === 'memory' ? [env.driver] : await Promise.all([target.createDriver(), target.createDriver(), target.createDriver()]);
    const writers = drivers.map((driver) => new SemanticCache<{ answer: string }>({ driver, sessionId: 's', keyPrefix: prefix, clock: env.clock }));
    const queries = Array.from({ length: 30 }, () => randomVector(random));
    await Promise.all(queries.map((query, i) => writers[i % writers.length]!.set('u', query, { answer: `#${i}` })));
    const reader = writers[0]!;
    for (const [i, query] of queries.entries()) expect(await reader.get('u', query)).toEqual({ answer: `#${i}` });
    expect((await reader.getStats()).storedEntries).toBe(30);
  });
});
