import { computeCodeLengths } from './code-lengths.js';
import { HuffmanError } from './errors.js';
import { checkOptions, describeValue } from './options.js';
import { DEFAULT_MAX_CODE_LENGTH, FIXED_HEADER_LENGTH, MAGIC, MAX_FORMAT_CODE_LENGTH, MAX_ORIGINAL_LENGTH, PADDING_FIELD_LENGTH } from './format.js';
import { assertBytes } from './header.js';

/** Options of {@link encode}. */
export interface EncodeOptions {
  /**
   * Longest code the encoder may emit, 1–255 bits (default 12, the width of
   * the decoder's lookup table, so decoding never leaves its fast path).
   * Must leave room for every distinct byte of the input: `2 ** maxCodeLength`
   * at least the number of distinct bytes. Codes are optimal under the limit
   * (package-merge).
   */
  readonly maxCodeLength?: number;
}

function writeUint32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

function resolveMaxCodeLength(options: EncodeOptions | undefined): number {
  checkOptions(options, ['maxCodeLength'], 'encode');
  if (options === undefined) return DEFAULT_MAX_CODE_LENGTH;
  const value = options.maxCodeLength;
  if (value === undefined) return DEFAULT_MAX_CODE_LENGTH;
  if (!Number.isInteger(value) || value < 1 || value > MAX_FORMAT_CODE_LENGTH) {
    throw new HuffmanError('INVALID_ARGUMENT', `maxCodeLength must be an integer from 1 to ${MAX_FORMAT_CODE_LENGTH}, got ${describeValue(value)}.`);
  }
  return value;
}

/** Byte histogram; four interleaved tables avoid store-to-load stalls on runs of one byte. */
function histogram(data: Uint8Array): Uint32Array {
  const c0 = new Uint32Array(256);
  const c1 = new Uint32Array(256);
  const c2 = new Uint32Array(256);
  const c3 = new Uint32Array(256);
  const n = data.length;
  const end4 = n - (n & 3);
  let i = 0;
  for (; i < end4; i += 4) {
    const a = data[i] as number;
    const b = data[i + 1] as number;
    const c = data[i + 2] as number;
    const d = data[i + 3] as number;
    c0[a] = (c0[a] as number) + 1;
    c1[b] = (c1[b] as number) + 1;
    c2[c] = (c2[c] as number) + 1;
    c3[d] = (c3[d] as number) + 1;
  }
  for (; i < n; i++) {
    const a = data[i] as number;
    c0[a] = (c0[a] as number) + 1;
  }
  for (let s = 0; s < 256; s++) c0[s] = (c0[s] as number) + (c1[s] as number) + (c2[s] as number) + (c3[s] as number);
  return c0;
}

/**
 * Compresses bytes into an HCv1 stream (canonical Huffman, header as in the
 * legacy format). The empty input gives the 10-byte empty stream; a single
 * distinct byte gets the one-bit code `0`.
 *
 * @throws {HuffmanError} INVALID_ARGUMENT for a non-Uint8Array, a bad
 *   `maxCodeLength`, or input longer than 4 GiB − 1 bytes.
 */
export function encode(data: Uint8Array, options?: EncodeOptions): Uint8Array {
  assertBytes(data, 'data');
  const maxCodeLength = resolveMaxCodeLength(options);
  const n = data.length;
  if (n > MAX_ORIGINAL_LENGTH) {
    throw new HuffmanError('INVALID_ARGUMENT', `HCv1 holds at most ${MAX_ORIGINAL_LENGTH} bytes, got ${n}.`);
  }
  if (n === 0) {
    const empty = new Uint8Array(FIXED_HEADER_LENGTH);
    empty.set(MAGIC, 0);
    return empty;
  }

  const counts = histogram(data);
  let distinct = 0;
  for (let s = 0; s < 256; s++) if ((counts[s] as number) > 0) distinct++;
  if (maxCodeLength < 8 && distinct > 2 ** maxCodeLength) {
    throw new HuffmanError(
      'INVALID_ARGUMENT',
      `maxCodeLength ${maxCodeLength} cannot give ${distinct} distinct bytes their own codes; use at least ${Math.ceil(Math.log2(distinct))}.`,
    );
  }
  const lengthOf = computeCodeLengths(counts, maxCodeLength);

  // Table order: (length, symbol); canonical codes follow that order.
  const order: number[] = [];
  for (let s = 0; s < 256; s++) if ((lengthOf[s] as number) > 0) order.push(s);
  order.sort((a, b) => (lengthOf[a] as number) - (lengthOf[b] as number) || a - b);
  const codeOf = new Float64Array(256);
  let code = 0;
  let previousLength = lengthOf[order[0] as number] as number;
  let longest = 0;
  let totalBits = 0;
  for (let i = 0; i < order.length; i++) {
    const symbol = order[i] as number;
    const length = lengthOf[symbol] as number;
    if (i > 0) code = (code + 1) * 2 ** (length - previousLength);
    codeOf[symbol] = code;
    previousLength = length;
    if (length > longest) longest = length;
    totalBits += (counts[symbol] as number) * length;
  }
  if (longest > 53) {
    // Unreachable for inputs below 4 GiB (a Huffman depth of d needs Fibonacci(d) bytes), kept as a guard.
    throw new HuffmanError('INVALID_ARGUMENT', `Input would need ${longest}-bit codes; set a smaller maxCodeLength.`);
  }

  const payloadBytes = Math.ceil(totalBits / 8);
  const headerLength = FIXED_HEADER_LENGTH + 2 * order.length + PADDING_FIELD_LENGTH;
  const out = new Uint8Array(headerLength + payloadBytes);
  out.set(MAGIC, 0);
  writeUint32(out, 4, n);
  out[8] = order.length & 0xff;
  out[9] = order.length >>> 8;
  for (let i = 0; i < order.length; i++) {
    const symbol = order[i] as number;
    out[FIXED_HEADER_LENGTH + 2 * i] = symbol;
    out[FIXED_HEADER_LENGTH + 2 * i + 1] = lengthOf[symbol] as number;
  }
  writeUint32(out, headerLength - PADDING_FIELD_LENGTH, payloadBytes * 8 - totalBits);

  if (longest <= 16) writeShortCodes(data, out, headerLength, codeOf, lengthOf);
  else writeLongCodes(data, out, headerLength, codeOf, lengthOf);
  return out;
}

/**
 * Hot loop for codes of at most 16 bits: one packed table load per byte, and
 * the accumulator never holds more than 31 live bits (15 pending + 16 new), so
 * plain 32-bit integer ops stay exact.
 */
function writeShortCodes(data: Uint8Array, out: Uint8Array, start: number, codeOf: Float64Array, lengthOf: Uint8Array): void {
  const packed = new Int32Array(256);
  for (let s = 0; s < 256; s++) packed[s] = ((codeOf[s] as number) << 5) | (lengthOf[s] as number);
  const n = data.length;
  let acc = 0;
  let bits = 0;
  let pos = start;
  for (let i = 0; i < n; i++) {
    const entry = packed[data[i] as number] as number;
    const length = entry & 31;
    acc = (acc << length) | (entry >>> 5);
    bits += length;
    if (bits >= 16) {
      bits -= 16;
      out[pos] = acc >>> (bits + 8);
      out[pos + 1] = acc >>> bits;
      pos += 2;
    }
  }
  if (bits >= 8) {
    bits -= 8;
    out[pos++] = acc >>> bits;
  }
  if (bits > 0) out[pos] = acc << (8 - bits);
}

/** Slow path for codes longer than 16 bits (only with a raised maxCodeLength on skewed input). */
function writeLongCodes(data: Uint8Array, out: Uint8Array, start: number, codeOf: Float64Array, lengthOf: Uint8Array): void {
  let acc = 0;
  let bits = 0;
  let pos = start;
  for (let i = 0; i < data.length; i++) {
    const symbol = data[i] as number;
    const code = codeOf[symbol] as number;
    let remaining = lengthOf[symbol] as number;
    while (remaining > 0) {
      const take = Math.min(remaining, 16);
      const piece = Math.floor(code / 2 ** (remaining - take)) % 2 ** take;
      acc = (acc << take) | piece;
      bits += take;
      remaining -= take;
      while (bits >= 8) {
        bits -= 8;
        out[pos++] = acc >>> bits;
      }
    }
  }
  if (bits > 0) out[pos] = acc << (8 - bits);
}
