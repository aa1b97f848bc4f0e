import { createMemoryDriver } from '@lix/redis-pool/memory';
import { describe, expect, it } from 'vitest';
import { CacheConfig, CacheCoordinator, CacheRuntime, ConfigError, createCacheRuntime } from '../src/index.js';

/** Misspelt or misplaced options are errors that name the key, never silently ignored. */

function caught(run: () => unknown): ConfigError {
  let error: unknown;
  try {
    run();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

async function rejected(run: () => Promise<unknown>): Promise<ConfigError> {
  const error = await run().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const circular: Record<string, unknown> = {};
circular.self = circular;

describe('createCacheRuntime and CacheRuntime options', () => {
  it('createCacheRuntime({ redisUrl }) fails naming redisUrl and suggesting { config: { redisUrl } }', () => {
    const error = caught(() => createCacheRuntime({ redisUrl: 'redis://127.0.0.1:6379' } as never));
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.variable).toBe('redisUrl');
    expect(error.message).toContain('{ config: { redisUrl } }');
  });

  it('new CacheRuntime names an unknown key and lists the known ones', () => {
    const error = caught(() => new CacheRuntime({ layer: {} } as never));
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.message).toContain('"layer"');
    expect(error.message).toContain('layers');
  });

  it('rejects unknown layer slots, non-function factories and drivers that are not drivers', () => {
    expect(caught(() => createCacheRuntime({ config: { driver: 'memory' }, layers: { semantic: false } } as never)).code).toBe('UNKNOWN_OPTION');
    expect(caught(() => createCacheRuntime({ config: { driver: 'memory' }, layers: { semanticCache: 5 } } as never)).code).toBe('INVALID_VALUE');
    expect(caught(() => new CacheRuntime({ drivers: { semanticCache: 'redis://x' } } as never)).code).toBe('INVALID_VALUE');
    expect(caught(() => createCacheRuntime({ config: 'redis://x' } as never)).code).toBe('INVALID_VALUE');
    expect(caught(() => createCacheRuntime({ envPrefix: 5n } as never)).code).toBe('INVALID_VALUE');
  });

  it('CacheConfig refuses BigInt, circular and prototype-less values with INVALID_VALUE, not a TypeError', () => {
    for (const value of [10n, circular, Object.create(null)]) {
      expect(caught(() => new CacheConfig({ redisPort: value } as never)).code).toBe('INVALID_VALUE');
      expect(caught(() => new CacheConfig({ clusterNodes: [value] } as never)).code).toBe('INVALID_VALUE');
      expect(caught(() => new CacheConfig({ redisUrl: value } as never)).code).toBe('INVALID_VALUE');
    }
    expect(caught(() => new CacheConfig(null as never)).code).toBe('INVALID_VALUE');
  });

  it('accepts redisCommandTimeoutMs and hands it to the caches as their bound', () => {
    const config = new CacheConfig({ driver: 'memory', redisCommandTimeoutMs: 250 });
    expect(config.redisCommandTimeoutMs).toBe(250);
    expect(CacheConfig.fromEnv('APP', { APP_REDIS_COMMAND_TIMEOUT_MS: '750' }).redisCommandTimeoutMs).toBe(750);
    expect(caught(() => new CacheConfig({ redisCommandTimeoutMs: 0 })).variable).toBe('redisCommandTimeoutMs');
  });
});

describe('CacheCoordinator options and arguments', () => {
  it('names an unknown option', () => {
    const error = caught(() => new CacheCoordinator({ sessionId: 's', semanticcache: {} } as never));
    expect(error.code).toBe('UNKNOWN_OPTION');
    expect(error.variable).toBe('semanticcache');
  });

  it('rejects a layer that lacks the methods the coordinator calls', () => {
    expect(caught(() => new CacheCoordinator({ sessionId: 's', semanticCache: { get: () => null } } as never)).code).toBe('INVALID_VALUE');
  });

  it('rejects non-iterables and malformed pairs in batchCacheUrlEmbeddings, and a compute that is not a function', async () => {
    const runtime = createCacheRuntime({
      config: { driver: 'memory' },
      layers: { sessionWindow: false },
      drivers: { urlEmbeddingCache: createMemoryDriver(), semanticCache: createMemoryDriver() },
    });
    try {
      const coordinator = runtime.forSession('s');
      for (const bad of [undefined, null, 5, Symbol('x'), 'text']) {
        expect((await rejected(() => coordinator.batchCacheUrlEmbeddings(bad as never))).code).toBe('INVALID_VALUE');
      }
      expect((await rejected(() => coordinator.batchCacheUrlEmbeddings([['https://a', new Float32Array(2)], 'oops'] as never))).code).toBe('INVALID_VALUE');
      expect((await rejected(() => coordinator.getOrComputeUrlEmbedding('https://a', 'not a function' as never))).code).toBe('INVALID_VALUE');
      expect((await rejected(() => coordinator.getOrComputeSemanticResponse(Symbol('u') as never, new Float32Array(2), () => 'x'))).code).toBe('INVALID_VALUE');
      expect((await rejected(() => coordinator.getOrComputeSemanticResponse('https://a', [1, 2] as never, () => 'x'))).code).toBe('INVALID_VALUE');
    } finally {
      await runtime.close();
    }
  });
});
