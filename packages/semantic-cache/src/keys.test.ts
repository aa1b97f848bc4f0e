import { keySlot } from '@lix/redis-pool';
import { describe, expect, it } from 'vitest';
import { SemanticCacheError } from './errors.js';
import { MAX_RAW_URL_BYTES, checkKeyPrefix, modelSegment, responsesKeyOf, scopeKeys, scopeScanPattern, sessionSegment, urlEmbeddingKey } from './keys.js';

describe('semantic cache keys', () => {
  it('put both keys of a scope in one cluster slot via a hash tag', () => {
    const keys = scopeKeys('lix', 'session', 'user-1', 'https://weather.com/tokyo');
    expect(keys.vectors).toMatch(/^lix:sc:\{s=user-1\|[0-9a-f]{32}\}:v$/);
    expect(keys.responses).toBe(keys.vectors.replace(/:v$/, ':r'));
    expect(keySlot(keys.vectors)).toBe(keySlot(keys.responses));
    expect(responsesKeyOf(keys.vectors)).toBe(keys.responses);
  });

  it('separate sessions, URLs and the shared scope', () => {
    const a = scopeKeys('lix', 'session', 'a', 'u').vectors;
    expect(scopeKeys('lix', 'session', 'b', 'u').vectors).not.toBe(a);
    expect(scopeKeys('lix', 'session', 'a', 'v').vectors).not.toBe(a);
    expect(scopeKeys('lix', 'shared', 'a', 'u').vectors).toMatch(/^lix:sc:\{shared\|/);
    expect(scopeKeys('lix', 'shared', 'a', 'u').vectors).toBe(scopeKeys('lix', 'shared', 'b', 'u').vectors);
  });

  it('hash session ids that could break a glob pattern or a hash tag', () => {
    expect(sessionSegment('plain_id-1.2')).toBe('plain_id-1.2');
    for (const hostile of ['a*b', 'x}y', '{tag}', 'with space', 'é']) {
      expect(sessionSegment(hostile)).toMatch(/^~[0-9a-f]{32}$/);
    }
    expect(sessionSegment('a*b')).not.toBe(sessionSegment('a?b'));
  });

  it('scan pattern matches its own session only', () => {
    const pattern = scopeScanPattern('lix', 'session', 'u1');
    expect(pattern).toBe('lix:sc:{s=u1|*}:v');
    // u1 is not a prefix match of u10: the "|" closes the session segment.
    expect(scopeKeys('lix', 'session', 'u10', 'x').vectors.startsWith('lix:sc:{s=u1|')).toBe(false);
  });

  it('bounded keys for any URL length', () => {
    const long = `https://example.com/${'a'.repeat(100_000)}`;
    expect(scopeKeys('lix', 'session', 's', long).vectors.length).toBeLessThan(80);
  });

  it('refuse prefixes with glob characters or braces', () => {
    for (const bad of ['', 'a*', 'a{b', 'a b', 'x'.repeat(65), 3]) {
      expect(() => checkKeyPrefix(bad)).toThrow(SemanticCacheError);
    }
    expect(checkKeyPrefix('app:prod')).toBe('app:prod');
  });
});

describe('URL embedding keys', () => {
  it('keep short URLs readable and include the model', () => {
    expect(urlEmbeddingKey('lix', modelSegment('all-MiniLM-L6-v2'), 'https://a.com/x')).toBe('lix:ue:all-MiniLM-L6-v2:u:https://a.com/x');
  });

  it('hash URLs longer than MAX_RAW_URL_BYTES into a bounded key', () => {
    const url = `https://a.com/${'é'.repeat(MAX_RAW_URL_BYTES)}`;
    const key = urlEmbeddingKey('lix', 'm', url);
    expect(key).toMatch(/^lix:ue:m:h:[0-9a-f]{64}$/);
    expect(urlEmbeddingKey('lix', 'm', `${url}x`)).not.toBe(key);
  });

  it('encode model ids so a colon cannot shift segments', () => {
    expect(modelSegment('org/model:v2')).toBe('org%2Fmodel%3Av2');
    expect(() => modelSegment('')).toThrow(SemanticCacheError);
  });
});
