import { describe, expect, it } from 'vitest';
import { META_MARKER, packEntryValue, unpackEntryValue } from './entry-value.js';
import { SemanticCacheError } from './errors.js';
import { encodeResponse } from './serialization.js';

describe('entry values', () => {
  it('round-trips a meta and a response, and reads a value written without meta as plain msgpack', () => {
    const response = encodeResponse({ answer: 'x' }, 1 << 20);
    const packed = packEntryValue('s;1000;2000;u=5', response);
    expect(packed[0]).toBe(META_MARKER);
    const { meta, response: back } = unpackEntryValue(packed);
    expect(meta).toBe('s;1000;2000;u=5');
    expect(back).toEqual(response);
    expect(unpackEntryValue(response)).toEqual({ meta: null, response });
  });

  it('reports a value cut short inside its meta as CORRUPT_ENTRY', () => {
    const packed = packEntryValue('a;;;u=1', new Uint8Array([0x90]));
    expect(() => unpackEntryValue(packed.subarray(0, 5))).toThrow(SemanticCacheError);
    expect(() => unpackEntryValue(new Uint8Array([META_MARKER, 0]))).toThrow(SemanticCacheError);
  });
});
