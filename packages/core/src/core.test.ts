import { describe, expect, it } from 'vitest';
import {
  describeValue,
  errorText,
  isClock,
  isLixError,
  isLogger,
  isPlainObject,
  LixError,
  MAX_SESSION_ID_LENGTH,
  plainJsonProblem,
  readEmbedding,
  readOptions,
  sessionIdProblem,
  showValue,
  SHARED_ERROR_CODES,
} from './index.js';

class ExampleError extends LixError<'BAD' | 'WORSE'> {
  override name = 'ExampleError';
}

const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();
const throwingTraps = new Proxy(
  {},
  {
    getPrototypeOf() {
      throw new Error('trap');
    },
    ownKeys() {
      throw new Error('trap');
    },
    get() {
      throw new Error('trap');
    },
  },
);

describe('LixError', () => {
  it('keeps name, code and cause, and is recognised across subclasses', () => {
    const cause = new Error('socket');
    const error = new ExampleError('BAD', 'went bad', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ExampleError');
    expect(error.code).toBe('BAD');
    expect(error.cause).toBe(cause);
    expect(isLixError(error)).toBe(true);
    expect(isLixError(error, 'BAD')).toBe(true);
    expect(isLixError(error, 'WORSE')).toBe(false);
    expect(isLixError(new Error('plain'))).toBe(false);
    expect(isLixError(revoked)).toBe(false);
    expect(isLixError(null)).toBe(false);
    expect('cause' in new ExampleError('BAD', 'no cause')).toBe(false);
  });

  it('recognises an error of another copy of the package by its registered brand', () => {
    const foreign = new Error('from a second copy');
    Object.defineProperty(foreign, Symbol.for('@lix/core.LixError'), { value: true });
    Object.assign(foreign, { code: 'X' });
    expect(isLixError(foreign, 'X')).toBe(true);
  });

  it('documents every shared code', () => {
    for (const [code, meaning] of Object.entries(SHARED_ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z_]+$/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });
});

describe('describeValue and errorText', () => {
  it('names every kind of value without echoing strings and without throwing', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const cases: [unknown, string][] = [
      [null, 'null'],
      [undefined, 'undefined'],
      ['', 'an empty string'],
      ['secret-token', 'a string of 12 characters'],
      [3, '3'],
      [true, 'true'],
      [10n, 'the bigint 10n'],
      [Symbol('s'), 'a symbol'],
      [() => 1, 'a function'],
      [[1], 'an array'],
      [{}, 'an object'],
      [cycle, 'an object'],
      [Object.create(null), 'a null-prototype object'],
      [new Map(), 'an instance of Map'],
      [revoked, 'an object'],
      [throwingTraps, 'an object'],
    ];
    for (const [value, expected] of cases) expect(describeValue(value)).toBe(expected);
  });

  it('showValue quotes strings (cut at 80 characters) and describes the rest', () => {
    expect(showValue('abc')).toBe('"abc"');
    expect(showValue('y'.repeat(100))).toBe(JSON.stringify(`${'y'.repeat(80)}…`));
    expect(showValue(5n)).toBe('the bigint 5n');
  });

  it('gives the message of an error, a string as itself, and a description otherwise', () => {
    expect(errorText(new TypeError('boom'))).toBe('boom');
    expect(errorText('text')).toBe('text');
    expect(errorText(42)).toBe('42');
    expect(errorText(revoked)).toBe('an object');
  });
});

describe('isPlainObject and readOptions', () => {
  it('accepts literals and null-prototype objects only', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    for (const value of [[], new Date(), null, 'x', revoked, throwingTraps]) expect(isPlainObject(value)).toBe(false);
  });

  it('copies known options and names unknown keys', () => {
    expect(readOptions('Thing', undefined, ['a'])).toEqual({ ok: true, options: {} });
    expect(readOptions('Thing', { a: 1 }, new Set(['a', 'b']))).toEqual({ ok: true, options: { a: 1 } });
    const bad = readOptions('Thing', { a: 1, tyop: 2, other: 3 }, ['a']);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.problem.kind).toBe('unknown-keys');
      expect(bad.problem.message).toBe('unknown Thing options "tyop", "other"; known options: a');
    }
    const notObject = readOptions('Thing', [1], ['a']);
    expect(!notObject.ok && notObject.problem.kind).toBe('not-an-object');
  });

  it('reports a getter that throws as unreadable instead of letting it escape', () => {
    const options = {
      get a(): number {
        throw new Error('getter');
      },
    };
    const result = readOptions('Thing', options, ['a']);
    expect(result.ok).toBe(false);
    if (!result.ok && result.problem.kind === 'unreadable') expect((result.problem.cause as Error).message).toBe('getter');
    else throw new Error('expected an unreadable problem');
  });
});

describe('sessionIdProblem', () => {
  it('accepts any well-formed Unicode up to the limit', () => {
    for (const id of ['a', `user:${'é'.repeat(150)}`, '😀'.repeat(256), 'x'.repeat(MAX_SESSION_ID_LENGTH)]) {
      expect(sessionIdProblem(id)).toBeUndefined();
    }
  });

  it('names what is wrong', () => {
    expect(sessionIdProblem('')).toBe('session id must be a non-empty string, got an empty string');
    expect(sessionIdProblem(7)).toBe('session id must be a non-empty string, got 7');
    expect(sessionIdProblem('x'.repeat(513))).toBe('session id is 513 characters long; the limit is 512');
    expect(sessionIdProblem('a\uD800b')).toMatch(/lone UTF-16 surrogate/);
    expect(sessionIdProblem('a\uDC00')).toMatch(/lone UTF-16 surrogate/);
  });
});

describe('plainJsonProblem', () => {
  it('accepts nested JSON data', () => {
    expect(plainJsonProblem({ a: [1, 'x', null, { b: true }], c: Object.create(null) }, 'metadata')).toBeUndefined();
  });

  it('names the path of what cannot be stored', () => {
    const cycle: Record<string, unknown> = { list: [] };
    (cycle.list as unknown[]).push(cycle);
    expect(plainJsonProblem({ a: { b: 1n } }, 'metadata')).toBe('metadata.a.b is the bigint 1n, which cannot be stored as JSON');
    expect(plainJsonProblem({ a: [0, NaN] }, 'metadata')).toBe('metadata.a[1] is NaN; only finite numbers are stored');
    expect(plainJsonProblem(cycle, 'metadata')).toBe('metadata.list[0] refers back to itself (a cycle)');
    expect(plainJsonProblem({ d: new Date(0) }, 'metadata')).toBe('metadata.d is an instance of Date; use plain objects and arrays');
    expect(plainJsonProblem({ u: undefined }, 'm')).toBe('m.u is undefined, which cannot be stored as JSON');
    expect(plainJsonProblem({ p: throwingTraps }, 'm')).toBe('m.p is an object; use plain objects and arrays');
    let deep: unknown = 1;
    for (let level = 0; level < 5; level++) deep = [deep];
    expect(plainJsonProblem(deep, 'm', 4)).toBe('m is nested deeper than 4 levels');
    expect(plainJsonProblem(deep, 'm', 5)).toBeUndefined();
  });

  it('a shared, non-cyclic object reached twice is fine', () => {
    const shared = { x: 1 };
    expect(plainJsonProblem({ a: shared, b: shared }, 'm')).toBeUndefined();
  });
});

describe('readEmbedding', () => {
  it('reads the three accepted forms into a Float32Array', () => {
    const f32 = new Float32Array([1, 2]);
    const same = readEmbedding(f32, 10);
    expect(same.ok && same.vector).toBe(f32);
    const fromArray = readEmbedding([0.5, -1], 10);
    expect(fromArray.ok && Array.from(fromArray.vector)).toEqual([0.5, -1]);
    const fromF64 = readEmbedding(new Float64Array([0.25]), 10);
    expect(fromF64.ok && fromF64.vector).toBeInstanceOf(Float32Array);
  });

  it('refuses what is not a finite vector within the limit', () => {
    const messages = [
      readEmbedding('x', 4),
      readEmbedding([], 4),
      readEmbedding([1, 2, 3], 2),
      readEmbedding([1, '2'], 4),
      readEmbedding([1e39], 4),
      readEmbedding(new Float32Array([NaN]), 4),
    ].map((result) => (result.ok ? 'ok' : result.message));
    expect(messages).toEqual([
      'an embedding must be a Float32Array, a Float64Array or number[], got a string of 1 characters',
      'an embedding must not be empty',
      'an embedding has 3 dimensions; the limit is 2',
      'an embedding given as an array must hold only numbers; index 1 is a string of 1 characters',
      'an embedding holds a non-finite value at index 0 (or a number too large for float32)',
      'an embedding holds a non-finite value at index 0 (or a number too large for float32)',
    ]);
  });
});

describe('Logger and Clock guards', () => {
  it('accept console and a clock, refuse the rest', () => {
    expect(isLogger(console)).toBe(true);
    expect(isLogger({ warn: () => {} })).toBe(true);
    expect(isLogger({ warn: 'no' })).toBe(false);
    expect(isLogger(revoked)).toBe(false);
    expect(isClock({ now: () => 1 })).toBe(true);
    expect(isClock({ now: 1 })).toBe(false);
    expect(isClock(throwingTraps)).toBe(false);
  });
});
