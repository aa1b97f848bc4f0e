import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { embed, embedMany, wrapEmbeddingModel } from 'ai';
import { beforeAll, expect, it } from 'vitest';
import { embeddingCacheMiddleware } from '../src/index.js';
import { embedText, testEmbeddingModel } from './helpers.js';

/** The driver with its MGET calls counted, to prove a batch is one lookup. */
function countingMget(driver: KVDriver): { driver: KVDriver; mgets: () => number } {
  let count = 0;
  const counted = new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'mget') {
        return (...args: Parameters<KVDriver['mget']>) => {
          count++;
          return target.mget(...args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { driver: counted, mgets: () => count };
}

describeEachDriver('embeddingCacheMiddleware', (target) => {
  let driver: KVDriver;
  beforeAll(async () => {
    driver = await target.createDriver();
  });

  it('looks a batch up in one MGET and sends only the misses to the model', async () => {
    const counting = countingMget(driver);
    const inner = testEmbeddingModel();
    const middleware = embeddingCacheMiddleware({ driver: counting.driver, keyPrefix: uniquePrefix('emb') });
    const model = wrapEmbeddingModel({ model: inner, middleware });
    const first = await embedMany({ model, values: ['red apple', 'green pear'] });
    expect(counting.mgets()).toBe(1);
    const second = await embedMany({ model, values: ['green pear', 'blue plum', 'red apple', 'blue plum'] });
    expect(counting.mgets()).toBe(2);
    expect(inner.embeddedValues).toEqual(['red apple', 'green pear', 'blue plum']);
    expect(second.embeddings[0]).toEqual(first.embeddings[1]);
    expect(second.embeddings[2]).toEqual(first.embeddings[0]);
    expect(second.embeddings[1]).toEqual(embedText('blue plum'));
    expect(second.embeddings[3]).toEqual(embedText('blue plum'));
    expect(middleware.getStats()).toMatchObject({ lookups: 6, hits: 2, misses: 4, embedded: 3, failures: 0 });
  });

  it('answers a fully cached batch without calling the model, with zero token usage', async () => {
    const inner = testEmbeddingModel();
    const middleware = embeddingCacheMiddleware({ driver, keyPrefix: uniquePrefix('emb') });
    const model = wrapEmbeddingModel({ model: inner, middleware });
    await embed({ model, value: 'one two three' });
    const again = await embed({ model, value: 'one two three' });
    expect(inner.embeddedValues).toEqual(['one two three']);
    expect(again.usage.tokens).toBe(0);
    expect(again.embedding).toEqual(embedText('one two three'));
    expect(again.providerMetadata?.lix).toEqual({ hits: 1, misses: 0 });
  });

  it("never serves one model's vectors to another (model id in the key)", async () => {
    const keyPrefix = uniquePrefix('emb');
    const a = testEmbeddingModel('model-a');
    const b = testEmbeddingModel('model-b');
    await embed({ model: wrapEmbeddingModel({ model: a, middleware: embeddingCacheMiddleware({ driver, keyPrefix }) }), value: 'shared text' });
    await embed({ model: wrapEmbeddingModel({ model: b, middleware: embeddingCacheMiddleware({ driver, keyPrefix }) }), value: 'shared text' });
    expect(b.embeddedValues).toEqual(['shared text']);
  });

  it('rejects unknown options as INVALID_OPTION', () => {
    expect(() => embeddingCacheMiddleware({ driver, ttl: 5 } as never)).toThrow(expect.objectContaining({ name: 'AiSdkCacheError', code: 'INVALID_OPTION' }));
    expect(() => embeddingCacheMiddleware({ driver, ttlMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
