import { describe, expect, it } from 'vitest';
import { decode, decodeToString, encode, encodeString, HuffmanError, isHuffmanError, readHeader, type HuffmanErrorCode } from './index.js';
import { referenceEncodeWithTable } from './reference.test-helper.js';

const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog, again and again. '.repeat(20));
const valid = encode(text);
const headerLength = readHeader(valid).headerLength;

function codeOf(run: () => unknown): HuffmanErrorCode | 'no error' {
  try {
    run();
  } catch (error) {
    if (!(error instanceof HuffmanError)) throw error;
    return error.code;
  }
  return 'no error';
}

function withBytes(base: Uint8Array, edits: Record<number, number>): Uint8Array {
  const copy = base.slice();
  for (const [at, value] of Object.entries(edits)) copy[Number(at)] = value;
  return copy;
}

function header(originalLength: number, pairs: [number, number][], padding: number, payload: number[]): Uint8Array {
  const out = new Uint8Array(14 + 2 * pairs.length + payload.length);
  out.set([0x48, 0x43, 0x76, 0x31]);
  const view = new DataView(out.buffer);
  view.setUint32(4, originalLength, true);
  view.setUint16(8, pairs.length, true);
  for (const [i, [s, l]] of pairs.entries()) out.set([s, l], 10 + 2 * i);
  view.setUint32(10 + 2 * pairs.length, padding, true);
  out.set(payload, 14 + 2 * pairs.length);
  return out;
}

describe('HuffmanError', () => {
  it('is an Error with name, code and kept cause', () => {
    const error = new HuffmanError('BAD_MAGIC', 'x', { cause: 'why' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HuffmanError');
    expect(error.code).toBe('BAD_MAGIC');
    expect(error.cause).toBe('why');
    expect(isHuffmanError(error, 'BAD_MAGIC')).toBe(true);
    expect(isHuffmanError(error, 'TRAILING_DATA')).toBe(false);
    expect(isHuffmanError(new Error('x'))).toBe(false);
  });
});

describe('decode rejects bad input with a typed code', () => {
  it('BAD_MAGIC for a wrong or partial magic', () => {
    expect(codeOf(() => decode(withBytes(valid, { 3: 0x32 })))).toBe('BAD_MAGIC');
    expect(codeOf(() => decode(Uint8Array.of(0x48, 0x43, 0x00)))).toBe('BAD_MAGIC');
    expect(codeOf(() => decode(new TextEncoder().encode('{"json": true}')))).toBe('BAD_MAGIC');
  });

  it('TRUNCATED_HEADER when the stream ends in the fixed header, the table or the padding field', () => {
    expect(codeOf(() => decode(new Uint8Array(0)))).toBe('TRUNCATED_HEADER');
    expect(codeOf(() => decode(valid.subarray(0, 2)))).toBe('TRUNCATED_HEADER');
    expect(codeOf(() => decode(valid.subarray(0, 9)))).toBe('TRUNCATED_HEADER');
    expect(codeOf(() => decode(valid.subarray(0, 13)))).toBe('TRUNCATED_HEADER');
    expect(codeOf(() => decode(valid.subarray(0, headerLength - 1)))).toBe('TRUNCATED_HEADER');
  });

  it('TRUNCATED_STREAM when the bitstream is cut', () => {
    expect(codeOf(() => decode(valid.subarray(0, valid.length - 1)))).toBe('TRUNCATED_STREAM');
    expect(codeOf(() => decode(valid.subarray(0, headerLength + 3)))).toBe('TRUNCATED_STREAM');
    expect(codeOf(() => decode(valid.subarray(0, headerLength)))).toBe('TRUNCATED_STREAM');
  });

  it('TRUNCATED_STREAM for a declared length the bitstream cannot hold, before allocating it', () => {
    // 4 GiB − 1 declared, 16 payload bytes: at most 128 one-bit symbols fit.
    const huge = header(
      0xffff_ffff,
      [
        [0x61, 1],
        [0x62, 1],
      ],
      0,
      new Array(16).fill(0x55),
    );
    expect(huge.length).toBe(34);
    const before = process.memoryUsage().arrayBuffers;
    expect(codeOf(() => decode(huge, { maxOutputLength: 0xffff_ffff }))).toBe('TRUNCATED_STREAM');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
    expect(codeOf(() => readHeader(huge))).toBe('no error');
  });

  it('OUTPUT_TOO_LARGE when the declared length is above maxOutputLength (default 1 GiB)', () => {
    const huge = header(
      0xffff_ffff,
      [
        [0x61, 1],
        [0x62, 1],
      ],
      0,
      new Array(16).fill(0x55),
    );
    expect(codeOf(() => decode(huge))).toBe('OUTPUT_TOO_LARGE');
    expect(codeOf(() => decode(valid, { maxOutputLength: text.length - 1 }))).toBe('OUTPUT_TOO_LARGE');
    expect(decode(valid, { maxOutputLength: text.length })).toEqual(text);
  });

  it('INVALID_CODE_TABLE for over-subscribed, unsorted, duplicate, zero-length or miscounted tables', () => {
    const bits = [0b0100_0000];
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 1],
              [0x62, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('no error');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 1],
              [0x62, 1],
              [0x63, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 1],
              [0x62, 2],
              [0x63, 2],
              [0x64, 2],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x62, 1],
              [0x61, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 2],
              [0x62, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 1],
              [0x61, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 1],
              [0x61, 2],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(
      codeOf(() =>
        decode(
          header(
            2,
            [
              [0x61, 0],
              [0x62, 1],
            ],
            6,
            bits,
          ),
        ),
      ),
    ).toBe('INVALID_CODE_TABLE');
    expect(codeOf(() => decode(header(2, [], 6, bits)))).toBe('INVALID_CODE_TABLE');
    const tooMany = header(2, [], 0, []);
    tooMany[8] = 1;
    tooMany[9] = 1; // 257 symbols
    expect(codeOf(() => decode(tooMany))).toBe('INVALID_CODE_TABLE');
    const emptyWithSymbols = Uint8Array.of(0x48, 0x43, 0x76, 0x31, 0, 0, 0, 0, 1, 0);
    expect(codeOf(() => decode(emptyWithSymbols))).toBe('INVALID_CODE_TABLE');
  });

  it('INVALID_CODE_TABLE decides over-subscription exactly at 255-bit lengths', () => {
    // Lengths 1, 2, …, 254, 255, 255 fill the code space exactly (Kraft sum = 1).
    const complete: [number, number][] = [];
    for (let s = 0; s < 255; s++) complete.push([s, s + 1]);
    complete.push([255, 255]);
    const data = Uint8Array.of(0, 1, 254, 255);
    const stream = referenceEncodeWithTable(data, complete);
    expect(readHeader(stream).complete).toBe(true);
    expect(decode(stream)).toEqual(data);
    // Moving the last symbol from 255 to 254 bits over-subscribes by 2^-255.
    const over = complete.map(([s, l]): [number, number] => (s === 254 ? [s, 254] : [s, l]));
    over.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    expect(codeOf(() => readHeader(header(1, over, 0, [0])))).toBe('INVALID_CODE_TABLE');
    // Dropping one 255-bit symbol leaves a 2^-255 hole: incomplete but valid.
    const under = complete.slice(0, -1);
    expect(readHeader(referenceEncodeWithTable(Uint8Array.of(0), under)).complete).toBe(false);
  });

  it('INVALID_PADDING for a padding field above 7 or one that disagrees with the last symbol', () => {
    const padOffset = headerLength - 4;
    expect(codeOf(() => decode(withBytes(valid, { [padOffset]: 8 })))).toBe('INVALID_PADDING');
    const declared = readHeader(valid).paddingBits;
    const wrong = withBytes(valid, { [padOffset]: declared === 0 ? 1 : declared - 1 });
    expect(['INVALID_PADDING', 'TRUNCATED_STREAM']).toContain(codeOf(() => decode(wrong)));
    // One symbol of one bit, padding says 6 (should be 7): the stream has a stray bit.
    expect(
      codeOf(() =>
        decode(
          header(
            1,
            [
              [0x61, 1],
              [0x62, 1],
            ],
            6,
            [0],
          ),
        ),
      ),
    ).toBe('INVALID_PADDING');
  });

  it('INVALID_BITSTREAM when bits fall into the unassigned space of an incomplete table', () => {
    // a = 00, b = 01; the prefix 1 is assigned to nothing.
    expect(
      codeOf(() =>
        decode(
          header(
            1,
            [
              [0x61, 2],
              [0x62, 2],
            ],
            6,
            [0b1000_0000],
          ),
        ),
      ),
    ).toBe('INVALID_BITSTREAM');
    expect(
      decode(
        header(
          2,
          [
            [0x61, 2],
            [0x62, 2],
          ],
          4,
          [0b0001_0000],
        ),
      ),
    ).toEqual(Uint8Array.of(0x61, 0x62));
    // Same through the table-driven path (≥ 64 symbols), failing near the end.
    const many = new Array(100).fill(0x61);
    const payload = new Array(25).fill(0);
    payload[24] = 0b0000_0010;
    expect(
      codeOf(() =>
        decode(
          header(
            100,
            [
              [0x61, 2],
              [0x62, 2],
            ],
            0,
            payload,
          ),
        ),
      ),
    ).toBe('INVALID_BITSTREAM');
    payload[24] = 0;
    expect(
      decode(
        header(
          100,
          [
            [0x61, 2],
            [0x62, 2],
          ],
          0,
          payload,
        ),
      ),
    ).toEqual(Uint8Array.from(many));
  });

  it('TRAILING_DATA when bytes follow the stream', () => {
    const extended = new Uint8Array(valid.length + 1);
    extended.set(valid);
    expect(codeOf(() => decode(extended))).toBe('TRAILING_DATA');
    expect(codeOf(() => decode(Uint8Array.of(0x48, 0x43, 0x76, 0x31, 0, 0, 0, 0, 0, 0, 0)))).toBe('TRAILING_DATA');
  });

  it('INVALID_UTF8 when decodeToString meets bytes that are not UTF-8, with the cause kept', () => {
    let caught: unknown;
    try {
      decodeToString(encode(Uint8Array.of(0x68, 0x69, 0xff)));
    } catch (error) {
      caught = error;
    }
    expect(isHuffmanError(caught, 'INVALID_UTF8')).toBe(true);
    expect((caught as HuffmanError).cause).toBeInstanceOf(TypeError);
  });

  it('decodeToString keeps a leading byte-order mark', () => {
    expect(decodeToString(encodeString('\uFEFFhi'))).toBe('\uFEFFhi');
  });
});

describe('INVALID_ARGUMENT for what the codec cannot take', () => {
  it('rejects non-Uint8Array data and streams', () => {
    expect(codeOf(() => encode('text' as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encode([1, 2] as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => decode(null as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => readHeader(new ArrayBuffer(10) as unknown as Uint8Array))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => encodeString(42 as unknown as string))).toBe('INVALID_ARGUMENT');
  });

  it('accepts a Buffer (a Uint8Array subclass)', () => {
    expect(decode(Buffer.from(encode(Buffer.from('abc'))))).toEqual(new Uint8Array([0x61, 0x62, 0x63]));
  });

  it('rejects bad options', () => {
    for (const maxCodeLength of [0, 256, 1.5, Number.NaN, '12']) {
      expect(codeOf(() => encode(text, { maxCodeLength: maxCodeLength as number }))).toBe('INVALID_ARGUMENT');
    }
    for (const maxOutputLength of [-1, 2 ** 32, 0.5]) {
      expect(codeOf(() => decode(valid, { maxOutputLength }))).toBe('INVALID_ARGUMENT');
    }
    expect(codeOf(() => encode(text, 5 as unknown as { maxCodeLength: number }))).toBe('INVALID_ARGUMENT');
  });

  it('rejects a maxCodeLength too small for the number of distinct bytes', () => {
    const fiveSymbols = Uint8Array.of(1, 2, 3, 4, 5);
    expect(codeOf(() => encode(fiveSymbols, { maxCodeLength: 2 }))).toBe('INVALID_ARGUMENT');
    expect(decode(encode(fiveSymbols, { maxCodeLength: 3 }))).toEqual(fiveSymbols);
  });

  it('rejects a string with a lone surrogate instead of writing U+FFFD', () => {
    expect(codeOf(() => encodeString('ok \uD800 no'))).toBe('INVALID_ARGUMENT');
    expect(decodeToString(encodeString('ok \uD83D\uDE00 yes'))).toBe('ok \uD83D\uDE00 yes');
  });
});
