import { describeEachDriver } from '@lix/driver-matrix';
import { pooledDriverCount } from '@lix/redis-pool';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CacheConfig, CacheRuntime, ConfigError, type CacheConfigOptions, type CacheRuntimeOptions, type ContextMessage } from '../src/index.js';
import { HashSemantic, KeyUrlCache, ListWindow } from './kv-layers.js';

function userLayers(prefix: string): NonNullable<CacheRuntimeOptions<ContextMessage, string>['layers']> {
  return {
    sessionWindow: ({ driver, sessionId }) => new ListWindow(driver, `${prefix}:w:${sessionId}`, 3),
    semanticCache: ({ driver, sessionId }) => new HashSemantic(driver, `${prefix}:q:${sessionId}`),
    urlEmbeddingCache: ({ driver }) => new KeyUrlCache(driver, `${prefix}:u`),
  };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describeEachDriver('CacheRuntime with user layers', (target) => {
  function configFor(extra: Partial<CacheConfigOptions> = {}): CacheConfig {
    if (target.kind === 'memory') return new CacheConfig({ driver: 'memory', ...extra });
    const driver = target.name.startsWith('ioredis') ? 'ioredis' : 'node-redis';
    if (target.kind === 'single') return new CacheConfig({ driver, redisUrl: target.redisUrl, ...extra });
    return new CacheConfig({ driver, clusterNodes: target.clusterNodes, ...extra });
  }

  it('serves 10 000 sessions on a constant number of drivers and timers', async () => {
    const prefix = uniquePrefix('rt');
    const runtime = new CacheRuntime<ContextMessage, string>({ config: configFor(), layers: userLayers(prefix) });
    try {
      const opened = runtime.getStats().driversOpened;
      expect(opened).toBe(target.kind === 'single' ? 3 : 1);
      const pooledBefore = pooledDriverCount();
      const timersBefore = timers();
      const coordinators = Array.from({ length: 10_000 }, (_, i) => runtime.forSession(`session-${i}`));
      await Promise.all(coordinators.slice(0, 50).map((c, i) => c.addMessageToContext('user', `hello ${i}`)));
      expect(await coordinators[7]!.getContextMessages()).toEqual([{ role: 'user', content: 'hello 7' }]);
      const stats = runtime.getStats();
      expect(stats.coordinatorsCreated).toBe(10_000);
      expect(stats.driversOpened).toBe(opened);
      expect(pooledDriverCount()).toBe(pooledBefore);
      // The client libraries keep a few timers of their own (ioredis's cluster refresh and
      // in-flight command timeouts); what must not happen is one timer per coordinator.
      expect(timers()).toBeLessThan(timersBefore + 10);
    } finally {
      await runtime.close();
    }
  });

  it('shares the URL embedding cache and one computation between sessions', async () => {
    const runtime = new CacheRuntime<ContextMessage, string>({ config: configFor(), layers: userLayers(uniquePrefix('rt')) });
    try {
      const a = runtime.forSession('a');
      const b = runtime.forSession('b');
      let computed = 0;
      const compute = async () => {
        computed++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return Float32Array.from([0.25, 0.75]);
      };
      const results = await Promise.all([a.getOrComputeUrlEmbedding('https://x', compute), b.getOrComputeUrlEmbedding('https://x', compute)]);
      expect(computed).toBe(1);
      expect(results[1]).toEqual(Float32Array.from([0.25, 0.75]));
      expect(await runtime.forSession('c').getUrlEmbedding('https://x')).toEqual(Float32Array.from([0.25, 0.75]));
      expect(runtime.forSession('a').urlEmbeddingCache).toBe(runtime.urlEmbeddingCache);
    } finally {
      await runtime.close();
    }
  });

  it('keeps sessions apart', async () => {
    const runtime = new CacheRuntime<ContextMessage, string>({ config: configFor(), layers: userLayers(uniquePrefix('rt')) });
    try {
      const a = runtime.forSession('a');
      await a.addMessageToContext('user', 'only in a');
      await a.cacheSemanticResponse('u', Float32Array.from([1]), 'answer for a');
      const b = runtime.forSession('b');
      expect(await b.getContextMessages()).toEqual([]);
      expect(await b.getSemanticResponse('u', Float32Array.from([1]))).toBeNull();
      expect(await runtime.forSession('a').getSemanticResponse('u', Float32Array.from([1]))).toBe('answer for a');
    } finally {
      await runtime.close();
    }
  });

  it('after close, forSession and existing coordinators reject with CLOSED', async () => {
    const runtime = new CacheRuntime<ContextMessage, string>({ config: configFor(), layers: userLayers(uniquePrefix('rt')) });
    const coordinator = runtime.forSession('a');
    await runtime.close();
    await runtime.close();
    expect(() => runtime.forSession('b')).toThrow(ConfigError);
    await expect(coordinator.getContextMessages()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(runtime.getStats().driversOpened).toBe(0);
  });
});

describe('CacheRuntime composition', () => {
  it('opens no driver for a layer that is left out', () => {
    const runtime = new CacheRuntime<ContextMessage, string>({
      config: { driver: 'memory' },
      layers: { ...userLayers('x'), semanticCache: false, urlEmbeddingCache: false },
    });
    expect(runtime.driverFor('semanticCache')).toBeUndefined();
    expect(runtime.driverFor('sessionWindow')).toBeDefined();
    const coordinator = runtime.forSession('s');
    expect(coordinator.semanticCache).toBeUndefined();
    return expect(coordinator.getSemanticResponse('u', Float32Array.from([1]))).rejects.toMatchObject({ code: 'LAYER_MISSING' });
  });

  it('uses injected drivers and leaves them open on close', async () => {
    const driver = createMemoryDriver({});
    const runtime = new CacheRuntime<ContextMessage, string>({
      config: { driver: 'memory' },
      drivers: { sessionWindow: driver, semanticCache: driver, urlEmbeddingCache: driver },
      layers: userLayers('inj'),
    });
    expect(runtime.getStats().driversOpened).toBe(0);
    await runtime.forSession('s').addMessageToContext('user', 'hi');
    await runtime.close();
    expect(await driver.llen('inj:w:s')).toBe(1);
    await driver.close();
  });

  it('starts the shared evictor once and stops it on close, and closes the archive', async () => {
    const events: string[] = [];
    const runtime = new CacheRuntime<ContextMessage, string>({
      config: { driver: 'memory' },
      layers: userLayers('ev'),
      defaults: {
        shared: ({ sessionDriver }) => {
          events.push(`shared:${sessionDriver === undefined ? 'none' : 'driver'}`);
          return {
            archive: { close: async () => void events.push('archive.close') },
            evictor: { start: () => void events.push('evictor.start'), stop: async () => void events.push('evictor.stop') },
          };
        },
      },
    });
    for (let i = 0; i < 100; i++) runtime.forSession(`s${i}`);
    await runtime.close();
    expect(events).toEqual(['shared:driver', 'evictor.start', 'evictor.stop', 'archive.close']);
  });

  it('rejects bad config options with a ConfigError', () => {
    expect(() => new CacheRuntime({ config: { redisPort: 0 } })).toThrow(ConfigError);
  });
});

describe('CacheRuntime connections on a real server (CLIENT LIST)', () => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function clients(): Promise<number> {
    const list = await server.cli('client', 'list');
    // redis-cli's own connection is in the list too.
    return list.split('\n').filter((line) => line.includes('addr=')).length - 1;
  }

  it.each(['ioredis', 'node-redis'] as const)('%s: 10 000 coordinators use one connection per database, released on close', async (driver) => {
    const runtime = new CacheRuntime<ContextMessage, string>({ config: { driver, redisUrl: server.url }, layers: userLayers(uniquePrefix('cl')) });
    const coordinators = Array.from({ length: 10_000 }, (_, i) => runtime.forSession(`s${i}`));
    await Promise.all(
      coordinators
        .filter((_, i) => i % 100 === 0)
        .map(async (c) => {
          await c.addMessageToContext('user', 'x');
          await c.getSemanticResponse('u', Float32Array.from([1]));
          await c.getUrlEmbedding('u');
        }),
    );
    expect(await clients()).toBe(3);
    await runtime.close();
    expect(await clients()).toBe(0);
  });

  it('layers configured with the same database share one connection', async () => {
    const runtime = new CacheRuntime<ContextMessage, string>({
      config: { driver: 'ioredis', redisUrl: server.url, sessionRedisDb: 4, semanticRedisDb: 4, urlCacheRedisDb: 4 },
      layers: userLayers(uniquePrefix('cl')),
    });
    const c = runtime.forSession('s');
    await Promise.all([c.addMessageToContext('user', 'x'), c.getSemanticResponse('u', Float32Array.from([1])), c.getUrlEmbedding('u')]);
    expect(runtime.getStats().driversOpened).toBe(1);
    expect(await clients()).toBe(1);
    await runtime.close();
  });

  it('two runtimes on the same server share pooled connections', async () => {
    const options = { config: { driver: 'ioredis' as const, redisUrl: server.url }, layers: userLayers(uniquePrefix('cl')) };
    const first = new CacheRuntime<ContextMessage, string>(options);
    const second = new CacheRuntime<ContextMessage, string>(options);
    await Promise.all([first.forSession('a').addMessageToContext('user', 'x'), second.forSession('b').addMessageToContext('user', 'y')]);
    await Promise.all([first.forSession('a').getUrlEmbedding('u'), second.forSession('b').getSemanticResponse('u', Float32Array.from([1]))]);
    expect(await clients()).toBe(3);
    await first.close();
    expect(await second.forSession('b').getContextMessages()).toEqual([{ role: 'user', content: 'y' }]);
    await second.close();
    expect(await clients()).toBe(0);
  });
});
