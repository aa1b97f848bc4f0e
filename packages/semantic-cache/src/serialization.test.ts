import { describe, expect, it } from 'vitest';
import { SemanticCacheError } from './errors.js';
import { MAX_RESPONSE_DEPTH, decodeResponse, encodeResponse } from './serialization.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SemanticCacheError);
    return (error as SemanticCacheError).code;
  }
  return undefined;
}

describe('response serialisation', () => {
  it('round-trips plain data, dates, bytes and nested structures', () => {
    const value = {
      text: 'Tokyo: 21°C, clear',
      tokens: 42,
      sources: ['a', 'b'],
      at: new Date(0),
      raw: new Uint8Array([1, 2, 3]),
      nested: { ok: true, none: null },
    };
    expect(decodeResponse(encodeResponse(value, 1 << 20))).toEqual(value);
    expect(decodeResponse(encodeResponse('just a string', 100))).toBe('just a string');
  });

  it('returns bytes that later packs do not overwrite', () => {
    const first = encodeResponse({ a: 'first' }, 100);
    const copy = [...first];
    encodeResponse({ b: 'second value, longer' }, 100);
    expect([...first]).toEqual(copy);
  });

  it('refuses null and undefined, which get() could not tell from a miss', () => {
    expect(codeOf(() => encodeResponse(null, 100))).toBe('UNSERIALIZABLE_RESPONSE');
    expect(codeOf(() => encodeResponse(undefined, 100))).toBe('UNSERIALIZABLE_RESPONSE');
  });

  it('refuses functions and symbols anywhere instead of dropping them silently', () => {
    expect(codeOf(() => encodeResponse({ a: [1, { f: () => 1 }] }, 100))).toBe('UNSERIALIZABLE_RESPONSE');
    expect(codeOf(() => encodeResponse({ s: Symbol('x') }, 100))).toBe('UNSERIALIZABLE_RESPONSE');
    expect(codeOf(() => encodeResponse(new Map([['k', () => 1]]), 100))).toBe('UNSERIALIZABLE_RESPONSE');
  });

  it('refuses circular references and excessive nesting', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(codeOf(() => encodeResponse(circular, 100))).toBe('UNSERIALIZABLE_RESPONSE');
    let deep: unknown = 'leaf';
    for (let i = 0; i <= MAX_RESPONSE_DEPTH + 1; i++) deep = [deep];
    expect(codeOf(() => encodeResponse(deep, 1 << 20))).toBe('UNSERIALIZABLE_RESPONSE');
  });

  it('accepts the same object twice in one response (shared, not circular)', () => {
    const shared = { x: 1 };
    expect(decodeResponse(encodeResponse({ a: shared, b: shared }, 100))).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('refuses a response over maxResponseBytes with RESPONSE_TOO_LARGE', () => {
    expect(codeOf(() => encodeResponse('x'.repeat(200), 100))).toBe('RESPONSE_TOO_LARGE');
  });

  it('reports undecodable stored bytes as CORRUPT_ENTRY', () => {
    expect(codeOf(() => decodeResponse(new Uint8Array([0x92, 0x01])))).toBe('CORRUPT_ENTRY');
    expect(codeOf(() => decodeResponse(new Uint8Array([0xc0])))).toBe('CORRUPT_ENTRY');
  });
});
