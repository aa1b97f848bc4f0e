import { createMemoryDriver } from '@lix/redis-pool/memory';
import { describe, expect, it } from 'vitest';
import { SemanticCacheError } from '../src/errors.js';
import { SemanticCache } from '../src/semantic-cache.js';
import { UrlEmbeddingCache } from '../src/url-embedding-cache.js';

function invalidOption(run: () => unknown): SemanticCacheError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SemanticCacheError);
  expect((caught as SemanticCacheError).code).toBe('INVALID_OPTION');
  return caught as SemanticCacheError;
}

describe('cache options', () => {
  const driver = createMemoryDriver();
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it('name an unknown option instead of ignoring it', () => {
    expect(invalidOption(() => new SemanticCache({ driver, sessionId: 's', similarityTreshold: 0.8 } as never)).message).toContain('"similarityTreshold"');
    expect(invalidOption(() => new UrlEmbeddingCache({ driver, modelId: 'm', ttl: 5 } as never)).message).toContain('"ttl"');
  });

  it('refuses a model id with a lone surrogate, which no key can encode', () => {
    invalidOption(() => new UrlEmbeddingCache({ driver, modelId: 'model-\ud800' }));
  });

  it('refuse onBackendError and backendTimeoutMs values they cannot use', () => {
    for (const onBackendError of ['ignore', 1, null]) {
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', onBackendError } as never));
      invalidOption(() => new UrlEmbeddingCache({ driver, modelId: 'm', onBackendError } as never));
    }
    for (const backendTimeoutMs of [0, -1, 1.5, 10n, circular, Object.create(null)]) {
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', backendTimeoutMs } as never));
      invalidOption(() => new UrlEmbeddingCache({ driver, modelId: 'm', backendTimeoutMs } as never));
    }
  });

  it('describe BigInt, circular and prototype-less values in messages instead of throwing a TypeError', () => {
    for (const value of [10n, circular, Object.create(null)]) {
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', ttlMs: value } as never));
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', similarityThreshold: value } as never));
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', scope: value } as never));
      invalidOption(() => new UrlEmbeddingCache({ driver, modelId: 'm', dimensions: value } as never));
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', clock: value } as never));
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', logger: 5 } as never));
      invalidOption(() => new SemanticCache({ driver, sessionId: 's', keyPrefix: value } as never));
    }
  });
});
