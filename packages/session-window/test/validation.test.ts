import { createMemoryDriver } from '@lix/redis-pool/memory';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HybridConversationCache,
  IdleEvictor,
  type SessionWindowError,
  applyTokenBudget,
  approximateTokenCount,
  isSessionWindowError,
  sessionKeys,
} from '../src/index.js';
import { MemoryArchive } from './doubles.js';

const driver = createMemoryDriver();
afterAll(() => driver.close());

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<SessionWindowError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isSessionWindowError(error, code as never), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as Error).name).toBe('SessionWindowError');
  return error as SessionWindowError;
}

describe('bad input gets a typed SessionWindowError and stores nothing', () => {
  const archive = new MemoryArchive();
  const session = new HybridConversationCache({
    sessionId: 'bad',
    driver,
    archive,
    keyPrefix: 'bad',
    maxContentBytes: 16,
    maxMetadataBytes: 64,
    maxEmbeddingLength: 4,
  });
  const cases: [string, unknown[], string][] = [
    ['empty role', ['', 'x'], 'INVALID_ROLE'],
    ['blank role', ['   ', 'x'], 'INVALID_ROLE'],
    ['non-string role', [42, 'x'], 'INVALID_ROLE'],
    ['role over 64 characters', ['r'.repeat(65), 'x'], 'INVALID_ROLE'],
    ['empty content', ['user', ''], 'INVALID_CONTENT'],
    ['non-string content', ['user', { text: 'x' }], 'INVALID_CONTENT'],
    ['null content', ['user', null], 'INVALID_CONTENT'],
    ['lone surrogate', ['user', 'a\uD800b'], 'INVALID_CONTENT'],
    ['content over the limit in UTF-8 bytes', ['user', 'é'.repeat(9)], 'CONTENT_TOO_LARGE'],
    ['array metadata', ['user', 'x', [1]], 'INVALID_METADATA'],
    ['class instance metadata', ['user', 'x', new Date()], 'INVALID_METADATA'],
    ['string metadata', ['user', 'x', 'meta'], 'INVALID_METADATA'],
    ['nested function', ['user', 'x', { a: { f: () => 1 } }], 'INVALID_METADATA'],
    ['undefined value', ['user', 'x', { a: undefined }], 'INVALID_METADATA'],
    ['NaN value', ['user', 'x', { a: Number.NaN }], 'INVALID_METADATA'],
    ['bigint value', ['user', 'x', { a: 1n }], 'INVALID_METADATA'],
    ['metadata over the limit', ['user', 'x', { a: 'y'.repeat(80) }], 'METADATA_TOO_LARGE'],
    ['string embedding', ['user', 'x', {}, 'vec'], 'INVALID_EMBEDDING'],
    ['Float64Array embedding', ['user', 'x', {}, new Float64Array(2)], 'INVALID_EMBEDDING'],
    ['empty embedding', ['user', 'x', {}, []], 'INVALID_EMBEDDING'],
    ['embedding with a string', ['user', 'x', {}, [1, '2']], 'INVALID_EMBEDDING'],
    ['embedding with Infinity', ['user', 'x', {}, [1, Infinity]], 'INVALID_EMBEDDING'],
    ['embedding too long', ['user', 'x', {}, [1, 2, 3, 4, 5]], 'INVALID_EMBEDDING'],
  ];
  for (const [name, args, code] of cases) {
    it(`rejects ${name} with ${code}`, async () => {
      const add = session.addMessage.bind(session) as (...a: unknown[]) => Promise<number>;
      await rejectsWith(add(...args), code);
      expect(archive.appendCalls).toBe(0);
    });
  }

  it('rejects a metadata cycle with INVALID_METADATA', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await rejectsWith(session.addMessage('user', 'x', cyclic as never), 'INVALID_METADATA');
  });

  it('accepts null-prototype metadata, nested JSON and number[] embeddings', async () => {
    const meta = Object.assign(Object.create(null) as object, { a: [1, { b: null }] });
    expect(await session.addMessage('user', 'ok', meta as never, [0.5, 1])).toBe(1);
  });

  it('rejects bad smartContext and getFormattedContext arguments with INVALID_ARGUMENT', async () => {
    await rejectsWith(session.smartContext(5 as never), 'INVALID_ARGUMENT');
    await rejectsWith(session.smartContext('q', null, -1), 'INVALID_ARGUMENT');
    await rejectsWith(session.smartContext('q', null, 1, 1.5), 'INVALID_ARGUMENT');
    await rejectsWith(session.smartContext('q', 'vec' as never), 'INVALID_EMBEDDING');
    await rejectsWith(session.getFormattedContext(-2), 'INVALID_ARGUMENT');
  });
});

describe('options are validated with INVALID_OPTION / INVALID_SESSION_ID', () => {
  const archive = new MemoryArchive();
  const make = (options: Record<string, unknown>) => () => new HybridConversationCache({ sessionId: 's', driver, archive, ...options } as never);
  const expectCode = (fn: () => unknown, code: string) => {
    try {
      fn();
    } catch (error) {
      expect(isSessionWindowError(error, code as never), String(error)).toBe(true);
      return;
    }
    throw new Error(`expected ${code}`);
  };
  it.each([
    [{ sessionId: '' }, 'INVALID_SESSION_ID'],
    [{ sessionId: 7 }, 'INVALID_SESSION_ID'],
    [{ sessionId: 's'.repeat(513) }, 'INVALID_SESSION_ID'],
    [{ hotWindowSize: 0 }, 'INVALID_OPTION'],
    [{ hotWindowSize: 2.5 }, 'INVALID_OPTION'],
    [{ sessionTtlMs: -1 }, 'INVALID_OPTION'],
    [{ sessionMaxTokens: 0 }, 'INVALID_OPTION'],
    [{ keyPrefix: 'a{b' }, 'INVALID_OPTION'],
    [{ keyPrefix: 'a*' }, 'INVALID_OPTION'],
    [{ keyPrefix: '' }, 'INVALID_OPTION'],
    [{ countTokens: 'chars' }, 'INVALID_OPTION'],
    [{ driver: {} }, 'INVALID_OPTION'],
    [{ archive: null }, 'INVALID_OPTION'],
    [{ logger: { warn: 'loud' } }, 'INVALID_OPTION'],
    [{ logger: 5 }, 'INVALID_OPTION'],
    [{ clock: {} }, 'INVALID_OPTION'],
  ])('rejects %o with %s', (options, code) => expectCode(make(options), code));

  it.each([
    [{ hotWindowSize: 10n }, 'INVALID_OPTION'],
    [{ sessionTtlMs: Object.create(null) }, 'INVALID_OPTION'],
    [{ verifyIntervalMs: -1 }, 'INVALID_OPTION'],
    [{ verifyIntervalMs: 1.5 }, 'INVALID_OPTION'],
    [{ sessionId: 5n }, 'INVALID_SESSION_ID'],
    [{ sessionId: 'a\uD800' }, 'INVALID_SESSION_ID'],
    [{ driver: Object.create(null) }, 'INVALID_OPTION'],
    [{ archive: { appendTurns: () => undefined } }, 'INVALID_OPTION'],
  ])('rejects hostile option values %#', (options, code) => expectCode(make(options), code));

  it('names unknown option keys instead of ignoring them', () => {
    let caught: unknown;
    try {
      make({ hotWindowsize: 5, extra: 1 })();
    } catch (error) {
      caught = error;
    }
    expect(isSessionWindowError(caught, 'INVALID_OPTION')).toBe(true);
    expect((caught as Error).message).toContain('"hotWindowsize", "extra"');
    expectCode(() => new IdleEvictor({ driver, intervalMs: 100, interval: 5 } as never), 'INVALID_OPTION');
  });

  it('rejects circular, bigint and unreadable options objects and arguments with typed errors', async () => {
    const circular: Record<string, unknown> = { sessionId: 's', driver, archive };
    circular.self = circular;
    expectCode(() => new HybridConversationCache(circular as never), 'INVALID_OPTION');
    const trap = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    expectCode(() => new HybridConversationCache(trap as never), 'INVALID_OPTION');
    expectCode(() => new HybridConversationCache(7n as never), 'INVALID_OPTION');
    expectCode(() => new IdleEvictor(null as never), 'INVALID_OPTION');
    const session = new HybridConversationCache({ sessionId: 'hostile', driver, archive });
    const getterThrows = Object.defineProperty({}, 'a', {
      enumerable: true,
      get: () => {
        throw new Error('getter');
      },
    });
    await rejectsWith(session.addMessage('user', 'x', getterThrows as never), 'INVALID_ARGUMENT');
    await rejectsWith(session.getFormattedContext(3n as never), 'INVALID_ARGUMENT');
    await rejectsWith(session.smartContext('q', null, 1n as never), 'INVALID_ARGUMENT');
    const cycle: unknown[] = [];
    cycle.push(cycle);
    await rejectsWith(session.addMessage('user', 'x', { cycle } as never), 'INVALID_METADATA');
    await rejectsWith(session.addMessage('user', 'x', {}, [1n] as never), 'INVALID_EMBEDDING');
  });

  it('rejects a token counter that throws with INVALID_OPTION when it is used', async () => {
    const session = new HybridConversationCache({
      sessionId: 'counter',
      driver,
      archive,
      keyPrefix: 'tc',
      sessionMaxTokens: 5,
      countTokens: () => {
        throw new Error('tokenizer down');
      },
    });
    await session.addMessage('user', 'x');
    await rejectsWith(session.getContext(), 'INVALID_OPTION');
  });

  it('rejects a bad evictor interval', () => {
    expectCode(() => new IdleEvictor({ driver, archive, intervalMs: 0 }), 'INVALID_OPTION');
  });
});

describe('archive failures', () => {
  it('rejects addMessage with ARCHIVE_FAILED and leaves Redis untouched when the archive cannot store', async () => {
    const archive = new MemoryArchive();
    const session = new HybridConversationCache({ sessionId: 'disk-full', driver, archive, keyPrefix: 'af' });
    await session.addMessage('user', 'stored');
    archive.failAppends = true;
    const error = await session.addMessage('user', 'lost').catch((reason: unknown) => reason);
    expect(isSessionWindowError(error, 'ARCHIVE_FAILED')).toBe(true);
    expect(String((error as Error).cause)).toContain('disk full');
    expect(await driver.llen(sessionKeys('af', 'disk-full').hot)).toBe(1);
    archive.failAppends = false;
    expect((await session.getContext()).map((m) => m.content)).toEqual(['stored']);
  });
});

describe('exported helpers reject bad arguments with SessionWindowError', () => {
  const throwsCode = (fn: () => unknown, code: string) => {
    let caught: unknown;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    expect(isSessionWindowError(caught, code as never), String(caught)).toBe(true);
  };
  it('validates sessionKeys arguments', () => {
    throwsCode(() => sessionKeys('lix', 42 as never), 'INVALID_SESSION_ID');
    throwsCode(() => sessionKeys('l{x', 's'), 'INVALID_OPTION');
    expect(sessionKeys('lix', 's').hot).toMatch(/^lix:sw:\{[A-Za-z0-9_-]{22}\}:h$/);
  });
  it('validates token budget arguments', () => {
    throwsCode(() => approximateTokenCount(7 as never), 'INVALID_ARGUMENT');
    throwsCode(() => applyTokenBudget('x' as never, 5, approximateTokenCount), 'INVALID_ARGUMENT');
    throwsCode(() => applyTokenBudget([], -1, approximateTokenCount), 'INVALID_ARGUMENT');
    throwsCode(() => applyTokenBudget([], 5, 'chars' as never), 'INVALID_ARGUMENT');
    throwsCode(() => applyTokenBudget([{ seq: 1 } as never], 5, approximateTokenCount), 'INVALID_ARGUMENT');
    expect(approximateTokenCount('12345')).toBe(2);
  });
  it('rejects a clock that returns no number when it is used', async () => {
    const session = new HybridConversationCache({ sessionId: 'clock', driver, archive: new MemoryArchive(), clock: { now: () => Number.NaN } });
    await rejectsWith(session.addMessage('user', 'x'), 'INVALID_OPTION');
    const evictor = new IdleEvictor({ driver, clock: { now: () => Number.NaN } });
    await rejectsWith(evictor.runOnce(), 'INVALID_OPTION');
  });
});
