import { METRICS } from '@lix/telemetry';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import type { KVDriver } from '@lix/redis-pool';
import { afterAll, describe, expect, it } from 'vitest';
import { randomVector, seededRandom, vectorAtSimilarity } from '../test/helpers.js';
import { createTestSdk, total } from '@lix/test-utils/otel';
import { SemanticCache } from './semantic-cache.js';

const sdk = createTestSdk();
afterAll(() => sdk.shutdown());

describe('SemanticCache OpenTelemetry', () => {
  it('counts hits, misses, evictions, invalidations and backend errors, records durations and similarities, and traces each call', async () => {
    const random = seededRandom(3);
    const driver = createMemoryDriver();
    const cache = new SemanticCache<string>({
      driver,
      sessionId: 'otel',
      maxItemsPerUrl: 1,
      telemetry: { meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider },
    });
    const first = randomVector(random);
    const second = randomVector(random);
    await cache.set('u', first, 'one', { tags: ['doc'] });
    await cache.set('u', second, 'two', { tags: ['doc'] });
    expect(await cache.get('u', vectorAtSimilarity(second, 0.95, random))).toBe('two');
    expect(await cache.get('u', first)).toBeNull();
    expect(await cache.get('other', first)).toBeNull();
    expect((await cache.invalidate({ tags: ['doc'] })).removed).toBe(1);
    await driver.close();
    // A closed driver fails every command: the lookup fails open (a miss) and the failure is counted.
    expect(await cache.get('u', first)).toBeNull();
    expect((await cache.getStats({ countStored: false })).backendErrors).toEqual({ CLIENT_CLOSED: 1 });

    const metrics = await sdk.metrics();
    const scope = { 'lix.semantic_cache.scope': 'session' };
    expect(total(metrics.get(METRICS.semanticCacheHits.name), scope)).toBe(1);
    expect(total(metrics.get(METRICS.semanticCacheMisses.name), scope)).toBe(3);
    expect(total(metrics.get(METRICS.semanticCacheEvictions.name), scope)).toBe(1);
    expect(total(metrics.get(METRICS.semanticCacheInvalidated.name), scope)).toBe(1);
    expect(total(metrics.get(METRICS.semanticCacheBackendErrors.name), { 'lix.operation': 'get' })).toBe(1);
    const lookups = metrics.get(METRICS.semanticCacheLookupDuration.name);
    expect(lookups?.unit).toBe('s');
    expect(total(lookups, { 'lix.semantic_cache.outcome': 'hit' })).toBe(1);
    expect(total(lookups, { 'lix.semantic_cache.outcome': 'miss' })).toBe(3);
    expect(total(lookups, { 'lix.semantic_cache.outcome': 'error' })).toBe(0);
    expect(total(metrics.get(METRICS.semanticCacheSetDuration.name))).toBe(2);
    // Similarities of the lookups that had something to compare (the one on 'other' had not).
    expect(total(metrics.get(METRICS.semanticCacheSimilarity.name))).toBe(2);
    const spans = sdk.spans();
    expect(spans.filter((span) => span.name === 'lix.semantic_cache.lookup')).toHaveLength(4);
    expect(
      spans.find((span) => span.name === 'lix.semantic_cache.lookup' && span.attributes['lix.semantic_cache.outcome'] === 'hit')?.attributes['lix.session.id'],
    ).toBe('otel');
    expect(spans.some((span) => span.name === 'lix.semantic_cache.invalidate')).toBe(true);
    // Failing open, the lookup is a miss to its caller, so its span is not an error; the backend error metric above counts the failure.
    expect(spans.filter((span) => span.name === 'lix.semantic_cache.lookup' && span.status.code === 2)).toHaveLength(0);
  });

  it('with telemetry: false keeps the driver unwrapped and reports nothing', async () => {
    const driver: KVDriver = createMemoryDriver();
    const before = sdk.spans().length;
    const cache = new SemanticCache<string>({ driver, sessionId: 'quiet', telemetry: false });
    await cache.set('u', randomVector(seededRandom(1)), 'x');
    await cache.get('u', randomVector(seededRandom(1)));
    expect(sdk.spans().length).toBe(before);
    await driver.close();
  });
});
