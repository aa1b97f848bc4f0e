import { startOutageTopology, type OutageTopology } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheConfig, createCacheRuntime, type CacheConfigOptions } from '../src/index.js';

/**
 * A cache outage never fails a request: with Redis killed, `getOrCompute…` runs
 * `compute` (once for concurrent callers with the same input), hands its result to
 * every caller, and the stats show what the caches absorbed. The stock layers on the
 * real drivers, against servers this test owns and kills.
 */

const clients = ['ioredis', 'node-redis'] as const;
const kinds = ['single', 'cluster'] as const;

function vector(seed: number): Float32Array {
  return Float32Array.from({ length: 16 }, (_, index) => Math.sin(seed * 31 + index));
}

/** A compute that finishes only when told to, so concurrent callers surely overlap. */
function gatedCompute<T>(value: T): { compute: () => Promise<T>; calls: () => number; release: () => void } {
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    compute: async () => {
      calls++;
      await gate;
      return value;
    },
    calls: () => calls,
    release: () => open(),
  };
}

describe.each(clients)('stock runtime over %s with Redis killed', (driver) => {
  describe.each(kinds)('%s', (kind) => {
    let topology: OutageTopology;

    beforeAll(async () => {
      topology = await startOutageTopology(kind);
    });
    afterAll(async () => {
      await topology.stop();
    });

    function config(extra: Partial<CacheConfigOptions> = {}): CacheConfig {
      const connection = topology.connection;
      const where: Partial<CacheConfigOptions> =
        'cluster' in connection ? { clusterNodes: connection.cluster.nodes } : { redisHost: connection.host, redisPort: connection.port };
      return new CacheConfig({ driver, ...where, redisSocketConnectTimeout: 1, redisCommandTimeoutMs: 1000, ...extra });
    }

    it('computes once for concurrent misses, returns the result to every caller, and reports the backend errors in the stats', async () => {
      const runtime = createCacheRuntime<string>({ config: config(), layers: { sessionWindow: false } });
      try {
        // Connected up front: a first call still connecting would be bounded by the command timeout too.
        await runtime.driverFor('semanticCache')!.connect();
        const cache = runtime.forSession('outage-session');
        await cache.cacheSemanticResponse('https://a.example', vector(1), 'before');
        expect(await cache.getSemanticResponse('https://a.example', vector(1))).toBe('before');
        await topology.kill();

        const answer = gatedCompute('computed during the outage');
        const semantic = Array.from({ length: 5 }, () => cache.getOrComputeSemanticResponse('https://b.example', vector(2), answer.compute));
        const embedding = vector(3);
        const urlCompute = gatedCompute(embedding);
        const embeddings = Array.from({ length: 4 }, () => runtime.forSession('other').getOrComputeUrlEmbedding('https://b.example', urlCompute.compute));
        // Every caller's lookup has missed before the computations may finish.
        await expect.poll(() => answer.calls() + urlCompute.calls()).toBe(2);
        answer.release();
        urlCompute.release();
        expect(await Promise.all(semantic)).toEqual(Array(5).fill('computed during the outage'));
        expect(await Promise.all(embeddings)).toEqual(Array(4).fill(embedding));
        expect(answer.calls()).toBe(1);
        expect(urlCompute.calls()).toBe(1);
        expect(await cache.getSemanticResponse('https://a.example', vector(1))).toBeNull();

        const stats = await cache.getStats();
        const codes = Object.keys(stats.backendErrors);
        expect(codes.length).toBeGreaterThan(0);
        expect(codes.every((code) => code === 'CONNECTION_LOST' || code === 'TIMEOUT')).toBe(true);
        // 5 semantic lookups + 1 skipped store + 1 lookup + the stats scan; 4 URL lookups + 1 skipped store.
        const total = Object.values(stats.backendErrors).reduce((sum, count) => sum + count, 0);
        expect(total).toBe(13);
        expect(stats.semanticCache?.lookups).toMatchObject({ misses: 6, computations: 1 });
      } finally {
        await topology.restart();
        await runtime.close();
      }
    });

    it('answers within redisCommandTimeoutMs when Redis is frozen', async () => {
      const runtime = createCacheRuntime<string>({ config: config({ redisCommandTimeoutMs: 300 }), layers: { sessionWindow: false } });
      try {
        await runtime.driverFor('semanticCache')!.connect();
        const cache = runtime.forSession('frozen-session');
        await cache.getSemanticResponse('https://a.example', vector(4));
        topology.freeze();
        try {
          const value = await cache.getOrComputeSemanticResponse('https://a.example', vector(4), () => 'fresh');
          expect(value).toBe('fresh');
        } finally {
          topology.thaw();
        }
        // The lookup and the skipped store; counted without the stats scan, which may time out too while the servers catch up.
        const semanticLayer = cache.semanticCache as unknown as {
          getStats(options: { countStored: boolean }): Promise<{ backendErrors: Record<string, number> }>;
        };
        const layer = await semanticLayer.getStats({ countStored: false });
        expect(layer.backendErrors).toEqual({ TIMEOUT: 2 });
      } finally {
        await runtime.close();
      }
    });
  });
});
