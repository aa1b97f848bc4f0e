import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SessionWindowError } from './errors.js';
import { decodeRecord, encodeRecord, MAX_RECORD_SEQ, recordSeq } from './record.js';

const seed = 20_261_128;

describe('hot-window record codec', () => {
  it('round-trips any message (property, seed printed on failure)', () => {
    const json = fc.jsonValue({ maxDepth: 3 }).filter((value) => !Object.is(value, -0));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_RECORD_SEQ }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }).filter((role) => role.length <= 64),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.dictionary(fc.string(), json, { maxKeys: 4 }),
        (seq, role, content, timestamp, metadata) => {
          const record = encodeRecord({ seq, role, content, timestamp, metadata: metadata as never });
          expect(recordSeq(record)).toBe(seq);
          expect(decodeRecord(record)).toEqual({ seq, role, content, timestamp, metadata });
        },
      ),
      { seed, numRuns: 300 },
    );
  });

  it('puts the seq big-endian in the first 6 bytes', () => {
    const record = encodeRecord({ seq: 0x010203040506, role: 'user', content: 'x', timestamp: 1, metadata: {} });
    expect(Array.from(record.subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(record.constructor).toBe(Uint8Array);
  });

  it('rejects bytes that are not a record instead of throwing', () => {
    const good = encodeRecord({ seq: 7, role: 'user', content: 'hello', timestamp: 1, metadata: { a: 1 } });
    expect(decodeRecord(new Uint8Array(3))).toBeNull();
    expect(decodeRecord(new TextEncoder().encode('a plain string value here'))).toBeNull();
    expect(decodeRecord(good.subarray(0, 20))).toBeNull();
    const badFlags = good.slice();
    badFlags[6] = 0x80;
    expect(decodeRecord(badFlags)).toBeNull();
    const zeroSeq = good.slice();
    zeroSeq.fill(0, 0, 6);
    expect(decodeRecord(zeroSeq)).toBeNull();
  });

  it('refuses a seq beyond 2^48 − 1 and malformed messages with SessionWindowError', () => {
    expect(() => encodeRecord({ seq: MAX_RECORD_SEQ + 1, role: 'u', content: 'x', timestamp: 1, metadata: {} })).toThrow(SessionWindowError);
    expect(() => encodeRecord({ seq: 0, role: 'u', content: 'x', timestamp: 1, metadata: {} })).toThrow(SessionWindowError);
    expect(() => encodeRecord({ seq: 1, role: 5, content: 'x', timestamp: 1, metadata: {} } as never)).toThrow(SessionWindowError);
    expect(() => encodeRecord({ seq: 1, role: 'u', content: 'x', timestamp: Number.NaN, metadata: {} })).toThrow(SessionWindowError);
    expect(() => encodeRecord({ seq: 1, role: 'u', content: 'x', timestamp: 1, metadata: [] as never })).toThrow(SessionWindowError);
    expect(() => encodeRecord(null as never)).toThrow(SessionWindowError);
    expect(() => decodeRecord('bytes' as never)).toThrow(SessionWindowError);
    expect(() => recordSeq(undefined as never)).toThrow(SessionWindowError);
  });
});
