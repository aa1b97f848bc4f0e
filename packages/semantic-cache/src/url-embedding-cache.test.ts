import { describeEachDriver, type DriverTarget } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { beforeAll, expect, it } from 'vitest';
import { ManualClock, randomVector, seededRandom, sleep } from '../test/helpers.js';
import { SemanticCacheError } from './errors.js';
import { UrlEmbeddingCache, type UrlEmbeddingCacheOptions } from './url-embedding-cache.js';
import { float32ToBytes } from './vector.js';

interface Env {
  driver: KVDriver;
  advance(ms: number): Promise<void>;
}

function setup(target: DriverTarget): Env {
  const env = {} as Env;
  beforeAll(async () => {
    if (target.kind === 'memory') {
      const clock = new ManualClock();
      env.advance = async (ms) => clock.advance(ms);
      env.driver = await target.createDriver({ clock });
    } else {
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

describeEachDriver('UrlEmbeddingCache', (target) => {
  const env = setup(target);
  const random = seededRandom(11);
  const cache = (overrides: Partial<UrlEmbeddingCacheOptions> = {}, prefix = uniquePrefix('ue')) =>
    new UrlEmbeddingCache({ driver: env.driver, modelId: 'all-MiniLM-L6-v2', keyPrefix: prefix, ...overrides });

  it('returns null for an unknown URL and the stored vector after set', async () => {
    const layer = cache();
    const embedding = randomVector(random);
    expect(await layer.get('https://a.com')).toBeNull();
    await layer.set('https://a.com', embedding);
    const back = await layer.get('https://a.com');
    expect(back).toBeInstanceOf(Float32Array);
    expect(back).toEqual(embedding);
  });

  it('stores the raw little-endian float32 bytes, as the original does', async () => {
    const layer = cache();
    const embedding = randomVector(random, 8);
    await layer.set('https://raw.com', Array.from(embedding));
    expect(await env.driver.get(layer.keyOf('https://raw.com'))).toEqual(float32ToBytes(embedding));
  });

  it('batchSet and batchGet many URLs, answering in request order with null for misses', async () => {
    const layer = cache();
    const urls = Array.from({ length: 40 }, (_, i) => `https://site-${i}.com/{page}`);
    const vectors = new Map(urls.filter((_, i) => i % 3 !== 0).map((url) => [url, randomVector(random, 16)] as const));
    await layer.batchSet(vectors);
    const results = await layer.batchGet(urls);
    expect(results).toHaveLength(urls.length);
    for (const [i, result] of results.entries()) expect(result).toEqual(vectors.get(urls[i]!) ?? null);
    expect(await layer.batchGet([])).toEqual([]);
    await layer.batchSet({ 'https://object.com': [1, 2, 3] });
    expect(await layer.get('https://object.com')).toEqual(new Float32Array([1, 2, 3]));
  });

  it('splits batches into commands of at most batchSize keys, answering as one call', async () => {
    const mgetSizes: number[] = [];
    const msetSizes: number[] = [];
    const counting = new Proxy(env.driver, {
      get(driver, name, receiver) {
        const value = Reflect.get(driver, name, receiver) as unknown;
        if (name === 'mget') {
          return (keys: string[]) => {
            mgetSizes.push(keys.length);
            return driver.mget(keys);
          };
        }
        if (name === 'mset') {
          return (pairs: unknown[], options: unknown) => {
            msetSizes.push(pairs.length);
            return (driver.mset as (...args: unknown[]) => unknown)(pairs, options);
          };
        }
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(driver) : value;
      },
    });
    const layer = cache({ driver: counting, batchSize: 7 });
    const urls = Array.from({ length: 23 }, (_, i) => `https://batched-${i}.com`);
    const vectors = new Map(urls.filter((_, i) => i % 4 !== 1).map((url) => [url, randomVector(random, 8)] as const));
    await layer.batchSet(vectors);
    expect(msetSizes).toEqual([7, 7, 3]);
    const results = await layer.batchGet(urls);
    expect(mgetSizes).toEqual([7, 7, 7, 2]);
    for (const [i, result] of results.entries()) expect(result).toEqual(vectors.get(urls[i]!) ?? null);
    expect(() => cache({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => cache({ batchSize: 1.5 })).toThrow(SemanticCacheError);
  });

  it('never serves vectors of another model', async () => {
    const prefix = uniquePrefix('ue');
    await cache({ modelId: 'model-a' }, prefix).set('https://a.com', randomVector(random));
    expect(await cache({ modelId: 'model-b' }, prefix).get('https://a.com')).toBeNull();
  });

  it('stores very long URLs under a bounded hashed key', async () => {
    const layer = cache();
    const url = `https://long.com/${'x'.repeat(50_000)}`;
    const embedding = randomVector(random, 4);
    await layer.set(url, embedding);
    expect(layer.keyOf(url).length).toBeLessThan(120);
    expect(await layer.get(url)).toEqual(embedding);
    expect(await layer.get(`${url}y`)).toBeNull();
  });

  it('expires entries after ttlMs', async () => {
    const layer = cache({ ttlMs: 400 });
    await layer.set('https://ttl.com', randomVector(random, 4));
    await layer.batchSet([['https://ttl2.com', randomVector(random, 4)]]);
    expect(await layer.get('https://ttl.com')).not.toBeNull();
    await env.advance(500);
    expect(await layer.batchGet(['https://ttl.com', 'https://ttl2.com'])).toEqual([null, null]);
  });

  it('refuses bad embeddings and writes nothing of a batch with one bad entry', async () => {
    const layer = cache({ dimensions: 4 });
    await expectCode(layer.set('https://bad.com', [1, Number.NaN, 0, 0]), 'INVALID_EMBEDDING');
    await expectCode(layer.set('https://bad.com', [1, 2]), 'DIMENSION_MISMATCH');
    await expectCode(
      layer.batchSet([
        ['https://good.com', [1, 2, 3, 4]],
        ['https://bad.com', [1, 2, 3, Number.POSITIVE_INFINITY]],
      ]),
      'INVALID_EMBEDDING',
    );
    expect(await layer.get('https://good.com')).toBeNull();
    await expectCode(layer.get(''), 'INVALID_URL');
    expect(() => cache({ modelId: '' })).toThrow(SemanticCacheError);
    expect(() => cache({ ttlMs: 0 })).toThrow(SemanticCacheError);
  });

  it('reports stored bytes that are not whole float32 vectors as CORRUPT_ENTRY', async () => {
    const layer = cache({ dimensions: 4 });
    await env.driver.set(layer.keyOf('https://odd.com'), new Uint8Array(7));
    await expectCode(layer.get('https://odd.com'), 'CORRUPT_ENTRY');
    await env.driver.set(layer.keyOf('https://short.com'), new Uint8Array(8));
    await expectCode(layer.batchGet(['https://short.com']), 'CORRUPT_ENTRY');
  });

  it('counts hits, misses and sets', async () => {
    const layer = cache();
    await layer.set('https://s.com', randomVector(random, 4));
    await layer.get('https://s.com');
    await layer.batchGet(['https://s.com', 'https://none.com', 'https://none2.com']);
    expect(await layer.getStats()).toEqual({ modelId: 'all-MiniLM-L6-v2', lookups: 4, hits: 2, misses: 2, hitRate: 0.5, sets: 1, backendErrors: {} });
  });
});
