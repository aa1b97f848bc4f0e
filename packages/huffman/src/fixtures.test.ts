import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { legacyHuffDir } from '@lix/test-utils';
import { describe, expect, it } from 'vitest';
import { decode, decodeToString, encode, encodeString, HuffmanCodec, readHeader } from './index.js';
import { referenceDecode } from './reference.test-helper.js';

const codecDir = join(legacyHuffDir, 'codec');
const samples = readdirSync(codecDir)
  .filter((name) => name.endsWith('.hc'))
  .map((name) => ({
    name: name.slice(0, -3),
    stream: new Uint8Array(readFileSync(join(codecDir, name))),
    raw: new Uint8Array(readFileSync(join(codecDir, name.replace(/\.hc$/, '.bin')))),
  }));

describe('Python-made HCv1 samples', () => {
  it('finds the five samples', () => {
    expect(samples.map((sample) => sample.name).sort()).toEqual(['ascii-text', 'empty', 'one-byte', 'single-symbol', 'utf8-text']);
  });

  for (const { name, stream, raw } of samples) {
    it(`${name}.hc decodes byte-exactly to ${name}.bin`, () => {
      expect(decode(stream)).toEqual(raw);
      expect(HuffmanCodec.decode(stream)).toEqual(raw);
    });

    it(`${name}.hc decodes identically with the spec reference decoder (the oracle agrees with Python)`, () => {
      expect(referenceDecode(stream)).toEqual(raw);
    });

    it(`${name}.bin encodes to a stream the spec reference decoder accepts`, () => {
      for (const maxCodeLength of [undefined, 8, 255]) {
        const ours = encode(raw, maxCodeLength === undefined ? undefined : { maxCodeLength });
        expect(referenceDecode(ours)).toEqual(raw);
        expect(decode(ours)).toEqual(raw);
      }
    });

    it(`${name}.bin encodes to the same size as Python's stream (same optimal code lengths)`, () => {
      expect(encode(raw, { maxCodeLength: 255 }).length).toBe(stream.length);
    });
  }

  it('readHeader reports the ascii sample without decoding', () => {
    const sample = samples.find((s) => s.name === 'ascii-text')!;
    const header = readHeader(sample.stream);
    expect(header.originalLength).toBe(sample.raw.length);
    expect(header.symbolCount).toBe(new Set(sample.raw).size);
    expect(header.headerLength).toBe(14 + 2 * header.symbolCount);
    expect(header.bitstreamLength).toBe(sample.stream.length - header.headerLength);
    expect(header.complete).toBe(true);
    expect(header.minCodeLength).toBe(header.codeLengths[0]);
    expect(header.maxCodeLength).toBe(header.codeLengths[header.symbolCount - 1]);
  });

  it('utf8-text decodes to a string equal to the UTF-8 of the .bin', () => {
    const sample = samples.find((s) => s.name === 'utf8-text')!;
    const text = new TextDecoder().decode(sample.raw);
    expect(decodeToString(sample.stream)).toBe(text);
    expect(decodeToString(encodeString(text))).toBe(text);
  });
});

describe('format edge cases', () => {
  it('the empty input encodes to exactly the 10 bytes HCv1, 0, 0', () => {
    expect(Array.from(encode(new Uint8Array(0)))).toEqual([0x48, 0x43, 0x76, 0x31, 0, 0, 0, 0, 0, 0]);
    expect(decode(encode(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    expect(readHeader(encode(new Uint8Array(0))).symbolCount).toBe(0);
  });

  it('a single distinct byte gets the one-bit code 0 (all-zero bitstream)', () => {
    const data = new Uint8Array(1001).fill(0x7a);
    const stream = encode(data);
    const header = readHeader(stream);
    expect(header.symbolCount).toBe(1);
    expect(Array.from(header.symbols)).toEqual([0x7a]);
    expect(Array.from(header.codeLengths)).toEqual([1]);
    expect(header.paddingBits).toBe(7);
    expect(stream.length).toBe(14 + 2 + 126);
    expect(stream.subarray(header.headerLength).every((byte) => byte === 0)).toBe(true);
    expect(decode(stream)).toEqual(data);
  });

  it('a one-byte input matches the Python sample exactly', () => {
    const sample = samples.find((s) => s.name === 'one-byte')!;
    expect(encode(sample.raw)).toEqual(sample.stream);
  });
});
