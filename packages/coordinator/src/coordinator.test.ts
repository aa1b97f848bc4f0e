import { describe, expect, it } from 'vitest';
import { CacheCoordinator } from './coordinator.js';
import { ConfigError } from './errors.js';
import type { ContextMessage, SemanticCacheLayer, SessionWindowLayer, UrlEmbeddingLayer } from './layers.js';
import { SingleFlight } from './single-flight.js';

/** A user's own session layer: plain array, no Redis. */
class ArrayWindow implements SessionWindowLayer {
  messages: ContextMessage[] = [];
  closed = 0;
  constructor(readonly size = 3) {}
  async addMessage(role: string, content: string) {
    this.messages.push({ role, content });
    this.messages = this.messages.slice(-this.size);
  }
  async getContext() {
    return [...this.messages];
  }
  async getFormattedContext(maxLines = 50) {
    return this.messages
      .slice(-maxLines)
      .map((m) => `${m.role}: ${m.content}`)
      .join('\n');
  }
  async clear() {
    this.messages = [];
  }
  async getStats() {
    return { hotMessages: this.messages.length };
  }
  async close() {
    this.closed++;
  }
}

class ExactSemantic implements SemanticCacheLayer<string> {
  entries = new Map<string, string>();
  async get(url: string, embedding: Float32Array) {
    return this.entries.get(`${url}|${Array.from(embedding).join(',')}`) ?? null;
  }
  async set(url: string, embedding: Float32Array, response: string) {
    this.entries.set(`${url}|${Array.from(embedding).join(',')}`, response);
  }
  async clearSession() {
    this.entries.clear();
  }
  async getStats() {
    return { entries: this.entries.size };
  }
}

class MapUrlCache implements UrlEmbeddingLayer {
  entries = new Map<string, Float32Array>();
  batches = 0;
  async get(url: string) {
    return this.entries.get(url) ?? null;
  }
  async set(url: string, embedding: Float32Array) {
    this.entries.set(url, embedding);
  }
  async batchSet(entries: Iterable<readonly [string, Float32Array]>) {
    this.batches++;
    for (const [url, embedding] of entries) this.entries.set(url, embedding);
  }
  async getStats() {
    return { entries: this.entries.size };
  }
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const vector = (...values: number[]) => Float32Array.from(values);

describe('CacheCoordinator with all layers', () => {
  it('adds messages to the window and returns them, plain and formatted', async () => {
    const coordinator = new CacheCoordinator({ sessionId: 's1', sessionWindow: new ArrayWindow(2) });
    await coordinator.addMessageToContext('user', 'hi');
    await coordinator.addMessageToContext('assistant', 'hello');
    await coordinator.addMessageToContext('user', 'weather?');
    expect(await coordinator.getContextMessages()).toEqual([
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'weather?' },
    ]);
    expect(await coordinator.getFormattedContext(1)).toBe('user: weather?');
  });

  it('counts semantic hits and misses into a hit rate', async () => {
    const coordinator = new CacheCoordinator({ sessionId: 's1', semanticCache: new ExactSemantic() });
    expect(await coordinator.getSemanticResponse('u', vector(1, 0))).toBeNull();
    await coordinator.cacheSemanticResponse('u', vector(1, 0), 'answer');
    expect(await coordinator.getSemanticResponse('u', vector(1, 0))).toBe('answer');
    expect(await coordinator.getSemanticResponse('u', vector(1, 0))).toBe('answer');
    const stats = await coordinator.getStats();
    expect(stats.semanticCache?.lookups).toMatchObject({ hits: 2, misses: 1 });
    expect(stats.semanticCache?.lookups.hitRate).toBeCloseTo(2 / 3);
    expect(stats.sessionWindow).toBeNull();
    expect(stats.urlEmbeddingCache).toBeNull();
  });

  it('caches URL embeddings one by one and in a batch from a Map, an object or pairs', async () => {
    const urls = new MapUrlCache();
    const coordinator = new CacheCoordinator({ sessionId: 's1', urlEmbeddingCache: urls });
    await coordinator.cacheUrlEmbedding('a', vector(1));
    await coordinator.batchCacheUrlEmbeddings(new Map([['b', vector(2)]]));
    await coordinator.batchCacheUrlEmbeddings({ c: vector(3) });
    await coordinator.batchCacheUrlEmbeddings([['d', vector(4)]]);
    await coordinator.batchCacheUrlEmbeddings({});
    expect(urls.batches).toBe(3);
    expect(await coordinator.getUrlEmbedding('c')).toEqual(vector(3));
    expect(await coordinator.getUrlEmbedding('zzz')).toBeNull();
    const stats = await coordinator.getStats();
    expect(stats.urlEmbeddingCache?.lookups).toMatchObject({ hits: 1, misses: 1, hitRate: 0.5 });
    expect(stats.urlEmbeddingCache?.layer).toEqual({ entries: 4 });
  });

  it('clearSessionCache clears the semantic entries and the window; clearContext only the window', async () => {
    const window = new ArrayWindow();
    const semantic = new ExactSemantic();
    const coordinator = new CacheCoordinator({ sessionId: 's1', sessionWindow: window, semanticCache: semantic });
    await coordinator.addMessageToContext('user', 'x');
    await coordinator.cacheSemanticResponse('u', vector(1), 'r');
    await coordinator.clearContext();
    expect(window.messages).toHaveLength(0);
    expect(semantic.entries.size).toBe(1);
    await coordinator.addMessageToContext('user', 'y');
    await coordinator.clearSessionCache();
    expect(window.messages).toHaveLength(0);
    expect(semantic.entries.size).toBe(0);
  });
});

describe('CacheCoordinator with layers left out', () => {
  const cases: [string, (c: CacheCoordinator<ContextMessage, string>) => Promise<unknown>][] = [
    ['addMessageToContext', (c) => c.addMessageToContext('user', 'x')],
    ['getContextMessages', (c) => c.getContextMessages()],
    ['getFormattedContext', (c) => c.getFormattedContext()],
    ['clearContext', (c) => c.clearContext()],
    ['getSemanticResponse', (c) => c.getSemanticResponse('u', vector(1))],
    ['cacheSemanticResponse', (c) => c.cacheSemanticResponse('u', vector(1), 'r')],
    ['getOrComputeSemanticResponse', (c) => c.getOrComputeSemanticResponse('u', vector(1), () => 'r')],
    ['getUrlEmbedding', (c) => c.getUrlEmbedding('u')],
    ['cacheUrlEmbedding', (c) => c.cacheUrlEmbedding('u', vector(1))],
    ['batchCacheUrlEmbeddings', (c) => c.batchCacheUrlEmbeddings({ u: vector(1) })],
    ['getOrComputeUrlEmbedding', (c) => c.getOrComputeUrlEmbedding('u', () => vector(1))],
  ];
  it.each(cases)('%s rejects with LAYER_MISSING when its layer is absent', async (method, call) => {
    const error = await rejection(call(new CacheCoordinator<ContextMessage, string>({ sessionId: 'empty' })));
    expect(error.code).toBe('LAYER_MISSING');
    expect(error.message).toContain(method);
  });

  it('a session-memory-only coordinator works and reports only its layer', async () => {
    const coordinator = new CacheCoordinator({ sessionId: 's', sessionWindow: new ArrayWindow() });
    await coordinator.addMessageToContext('user', 'x');
    await coordinator.clearSessionCache();
    expect(await coordinator.getStats()).toEqual({
      sessionId: 's',
      backendErrors: {},
      sessionWindow: { hotMessages: 0 },
      semanticCache: null,
      urlEmbeddingCache: null,
    });
  });

  it('rejects an empty session id', () => {
    expect(() => new CacheCoordinator({ sessionId: '' })).toThrow(ConfigError);
  });
});

describe('CacheCoordinator getOrCompute helpers', () => {
  it('computes a missed URL embedding once for concurrent callers across coordinators sharing a flight', async () => {
    const urls = new MapUrlCache();
    const flight = new SingleFlight<Float32Array>();
    const a = new CacheCoordinator({ sessionId: 'a', urlEmbeddingCache: urls, flights: { urlEmbedding: flight } });
    const b = new CacheCoordinator({ sessionId: 'b', urlEmbeddingCache: urls, flights: { urlEmbedding: flight } });
    let computed = 0;
    const compute = async () => {
      computed++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return vector(0.5, 0.5);
    };
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => a.getOrComputeUrlEmbedding('https://x', compute)),
      ...Array.from({ length: 10 }, () => b.getOrComputeUrlEmbedding('https://x', compute)),
    ]);
    expect(computed).toBe(1);
    expect(results.every((r) => r[0] === 0.5)).toBe(true);
    expect(urls.entries.get('https://x')).toEqual(vector(0.5, 0.5));
    await a.getOrComputeUrlEmbedding('https://x', compute);
    expect(computed).toBe(1);
    expect((await a.getStats()).urlEmbeddingCache?.lookups.computations).toBe(1);
  });

  it('computes a missed semantic response once and serves the next call from the cache', async () => {
    const coordinator = new CacheCoordinator({ sessionId: 's', semanticCache: new ExactSemantic() });
    let computed = 0;
    const compute = async () => {
      computed++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 'llm answer';
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => coordinator.getOrComputeSemanticResponse('u', vector(1, 2), compute)));
    expect(new Set(results)).toEqual(new Set(['llm answer']));
    expect(computed).toBe(1);
    expect(await coordinator.getOrComputeSemanticResponse('u', vector(1, 2), compute)).toBe('llm answer');
    expect(computed).toBe(1);
  });

  it('passes a compute error to every waiter and stores nothing', async () => {
    const semantic = new ExactSemantic();
    const coordinator = new CacheCoordinator({ sessionId: 's', semanticCache: semantic });
    const compute = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error('LLM timeout');
    };
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => coordinator.getOrComputeSemanticResponse('u', vector(1), compute)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['LLM timeout', 'LLM timeout', 'LLM timeout']);
    expect(semantic.entries.size).toBe(0);
    expect(await coordinator.getOrComputeSemanticResponse('u', vector(1), () => 'second try')).toBe('second try');
  });

  it('hands compute a signal that aborts when the caller aborts, and stores nothing then', async () => {
    const semantic = new ExactSemantic();
    const coordinator = new CacheCoordinator({ sessionId: 's', semanticCache: semantic });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = coordinator.getOrComputeSemanticResponse(
      'u',
      vector(3),
      ({ signal }) =>
        new Promise<string>((resolve) => {
          seen = signal;
          signal.addEventListener('abort', () => resolve('answer after abort'));
        }),
      { signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('client disconnected'));
    await expect(call).rejects.toThrow('client disconnected');
    expect(seen?.aborted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(semantic.entries.size).toBe(0);
  });

  it('rejects options it does not know and a signal that is not an AbortSignal', async () => {
    const coordinator = new CacheCoordinator({ sessionId: 's', semanticCache: new ExactSemantic(), urlEmbeddingCache: new MapUrlCache() });
    expect((await rejection(coordinator.getOrComputeSemanticResponse('u', vector(1), () => 'r', { sginal: 1 } as never))).code).toBe('UNKNOWN_OPTION');
    expect((await rejection(coordinator.getOrComputeUrlEmbedding('u', () => vector(1), { signal: {} as AbortSignal }))).code).toBe('INVALID_VALUE');
  });
});

describe('CacheCoordinator.close', () => {
  it('closes the layers it was given, once, and rejects later calls with CLOSED', async () => {
    const window = new ArrayWindow();
    let closedHook = 0;
    const coordinator = new CacheCoordinator({ sessionId: 's', sessionWindow: window, onClose: () => closedHook++ });
    await coordinator.close();
    await coordinator.close();
    expect(window.closed).toBe(1);
    expect(closedHook).toBe(1);
    expect(coordinator.closed).toBe(true);
    expect((await rejection(coordinator.getContextMessages())).code).toBe('CLOSED');
    expect((await rejection(coordinator.clearSessionCache())).code).toBe('CLOSED');
  });

  it('is closed by await using when its block ends, even when the block throws', async () => {
    const window = new ArrayWindow();
    let escaped: CacheCoordinator | undefined;
    await expect(
      (async () => {
        await using coordinator = new CacheCoordinator({ sessionId: 's', sessionWindow: window });
        escaped = coordinator;
        expect(coordinator.closed).toBe(false);
        throw new Error('the block failed');
      })(),
    ).rejects.toThrow('the block failed');
    expect(escaped?.closed).toBe(true);
    expect(window.closed).toBe(1);
  });

  it('leaves shared layers open with closeLayers: false', async () => {
    const window = new ArrayWindow();
    await new CacheCoordinator({ sessionId: 's', sessionWindow: window, closeLayers: false }).close();
    expect(window.closed).toBe(0);
  });
});

describe('CacheCoordinator options', () => {
  it('rejects missing or non-object options with a ConfigError instead of a TypeError', () => {
    for (const options of [null, undefined, 42, 'session']) {
      expect(() => new CacheCoordinator(options as never)).toThrow(ConfigError);
    }
  });
});
