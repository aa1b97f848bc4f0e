import { HuffmanError } from './errors.js';
import { checkOptions, describeValue } from './options.js';
import { DEFAULT_MAX_OUTPUT_LENGTH, MAX_ORIGINAL_LENGTH } from './format.js';
import { readHeader, type HuffmanHeader } from './header.js';

/** Options of {@link decode}. */
export interface DecodeOptions {
  /**
   * Largest declared original length `decode` will allocate for, in bytes
   * (default 1 GiB). A larger declaration throws OUTPUT_TOO_LARGE before any
   * allocation.
   */
  readonly maxOutputLength?: number;
}

/** Width of the primary lookup table; the encoder's default code limit matches it. */
const TABLE_BITS = 12;
const TABLE_SIZE = 1 << TABLE_BITS;
const TABLE_MASK = TABLE_SIZE - 1;
/** Below this many output bytes, building the lookup tables costs more than it saves. */
const TABLE_THRESHOLD = 64;

function resolveMaxOutputLength(options: DecodeOptions | undefined): number {
  checkOptions(options, ['maxOutputLength'], 'decode');
  if (options === undefined) return DEFAULT_MAX_OUTPUT_LENGTH;
  const value = options.maxOutputLength;
  if (value === undefined) return DEFAULT_MAX_OUTPUT_LENGTH;
  if (!Number.isInteger(value) || value < 0 || value > MAX_ORIGINAL_LENGTH) {
    throw new HuffmanError('INVALID_ARGUMENT', `maxOutputLength must be an integer from 0 to ${MAX_ORIGINAL_LENGTH}, got ${describeValue(value)}.`);
  }
  return value;
}

/** Canonical-code facts the slow path needs: symbols in table order and how many share each length. */
interface CodeShape {
  readonly symbols: Uint8Array;
  readonly countPerLength: Uint16Array;
  readonly maxCodeLength: number;
}

/**
 * Decompresses an HCv1 stream. The whole stream must be consumed exactly:
 * the last symbol must end where the padding field says, and nothing may follow.
 * Incomplete code tables are accepted; bits in their unassigned space throw
 * INVALID_BITSTREAM.
 *
 * @throws {HuffmanError} BAD_MAGIC, TRUNCATED_HEADER, TRUNCATED_STREAM,
 *   INVALID_CODE_TABLE, INVALID_PADDING, INVALID_BITSTREAM, TRAILING_DATA,
 *   OUTPUT_TOO_LARGE or INVALID_ARGUMENT.
 */
export function decode(stream: Uint8Array, options?: DecodeOptions): Uint8Array {
  const maxOutputLength = resolveMaxOutputLength(options);
  const header = readHeader(stream);
  const n = header.originalLength;
  if (n === 0) {
    if (header.bitstreamLength > 0) {
      throw new HuffmanError('TRAILING_DATA', `${header.bitstreamLength} bytes follow the empty HCv1 stream.`);
    }
    return new Uint8Array(0);
  }
  if (n > maxOutputLength) {
    throw new HuffmanError(
      'OUTPUT_TOO_LARGE',
      `The stream declares ${n} bytes of output, above maxOutputLength ${maxOutputLength}; raise the option if this is expected.`,
    );
  }
  const payloadBytes = header.bitstreamLength;
  const availableBits = payloadBytes * 8 - header.paddingBits;
  // Every symbol takes at least minCodeLength bits: refuse before allocating
  // an output the bitstream cannot possibly fill.
  if (n * header.minCodeLength > availableBits) {
    throw new HuffmanError(
      'TRUNCATED_STREAM',
      `The stream declares ${n} bytes but its ${Math.max(availableBits, 0)} bits can hold at most ${Math.floor(
        Math.max(availableBits, 0) / header.minCodeLength,
      )} symbols.`,
    );
  }

  const shape = codeShape(header);
  const out = new Uint8Array(n);
  const start = header.headerLength;
  let consumed: number;
  if (n < TABLE_THRESHOLD) {
    consumed = 0;
    for (let o = 0; o < n; o++) consumed = decodeSlow(stream, start, consumed, availableBits, shape, out, o);
  } else {
    consumed = decodeWithTables(stream, start, availableBits, header, shape, out);
  }

  if (consumed !== availableBits) {
    if (Math.ceil(consumed / 8) < payloadBytes) {
      throw new HuffmanError('TRAILING_DATA', `${payloadBytes - Math.ceil(consumed / 8)} bytes follow the last symbol of the HCv1 stream.`);
    }
    throw new HuffmanError(
      'INVALID_PADDING',
      `The last symbol ends ${payloadBytes * 8 - consumed} bits before the end, but the padding field says ${header.paddingBits}.`,
    );
  }
  return out;
}

function codeShape(header: HuffmanHeader): CodeShape {
  const countPerLength = new Uint16Array(header.maxCodeLength + 1);
  for (const length of header.codeLengths) countPerLength[length] = (countPerLength[length] as number) + 1;
  return { symbols: header.symbols, countPerLength, maxCodeLength: header.maxCodeLength };
}

/**
 * Decodes one symbol bit by bit from `pos`, for any length the format allows
 * (up to 255 bits). `offset` is the distance of the bits read so far from the
 * first code of the current length; once it reaches the number of symbols
 * still unassigned it can never match, which keeps it below 512 instead of
 * growing to 2^255. Writes the symbol to out[o] and returns the new position.
 */
function decodeSlow(stream: Uint8Array, start: number, pos: number, availableBits: number, shape: CodeShape, out: Uint8Array, o: number): number {
  const { symbols, countPerLength, maxCodeLength } = shape;
  let offset = 0;
  let index = 0;
  let remaining = symbols.length;
  for (let length = 1; length <= maxCodeLength; length++) {
    if (pos >= availableBits) {
      throw new HuffmanError('TRUNCATED_STREAM', `The bitstream ends inside symbol ${o + 1} of ${out.length}.`);
    }
    const bit = ((stream[start + (pos >>> 3)] as number) >>> (7 - (pos & 7))) & 1;
    pos++;
    offset = offset * 2 + bit;
    const count = countPerLength[length] as number;
    if (offset < count) {
      out[o] = symbols[index + offset] as number;
      return pos;
    }
    offset -= count;
    index += count;
    remaining -= count;
    if (offset >= remaining) break;
  }
  throw new HuffmanError('INVALID_BITSTREAM', `Bits ending at bit ${pos} of the bitstream match no code of the (incomplete) table.`);
}

/**
 * Table-driven decoding. `single[i]` maps 12 bits to (length << 8 | symbol)
 * of the code they start with (0: longer than 12 bits or unassigned → slow
 * path); `multi[i]` packs up to three whole codes that fit in those 12 bits so
 * one lookup usually yields two or three bytes of text.
 */
function decodeWithTables(stream: Uint8Array, start: number, availableBits: number, header: HuffmanHeader, shape: CodeShape, out: Uint8Array): number {
  const single = new Uint16Array(TABLE_SIZE);
  const { symbols, codeLengths } = header;
  let code = 0;
  let previousLength = codeLengths[0] as number;
  for (let i = 0; i < symbols.length; i++) {
    const length = codeLengths[i] as number;
    if (length > TABLE_BITS) break;
    if (i > 0) code = (code + 1) << (length - previousLength);
    previousLength = length;
    const first = code << (TABLE_BITS - length);
    single.fill((length << 8) | (symbols[i] as number), first, first + (1 << (TABLE_BITS - length)));
  }
  const minLength = header.minCodeLength;
  const multi = new Int32Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i++) {
    const firstEntry = single[i] as number;
    if (firstEntry === 0) continue;
    let bits = firstEntry >>> 8;
    let packedSymbols = firstEntry & 0xff;
    let count = 1;
    while (count < 3 && TABLE_BITS - bits >= minLength) {
      const entry = single[(i << bits) & TABLE_MASK] as number;
      const length = entry >>> 8;
      if (entry === 0 || length > TABLE_BITS - bits) break;
      packedSymbols |= (entry & 0xff) << (8 * count);
      bits += length;
      count++;
    }
    multi[i] = packedSymbols | (count << 24) | (bits << 26);
  }

  const n = out.length;
  const srcLength = stream.length;
  const fastSrcEnd = srcLength - 4;
  const fastOutEnd = n - 3;
  let o = 0;
  let p = start;
  let buf = 0;
  let cnt = 0;
  // Fast loop: at least 4 unread source bytes and 3 free output bytes, so
  // the refill never reads past the end and the three-byte store never
  // writes past it; the consumed bits then always lie before the last byte.
  while (p <= fastSrcEnd && o <= fastOutEnd) {
    while (cnt <= 24) {
      buf |= (stream[p++] as number) << (24 - cnt);
      cnt += 8;
    }
    const entry = multi[buf >>> 20] as number;
    if (entry !== 0) {
      out[o] = entry;
      out[o + 1] = entry >>> 8;
      out[o + 2] = entry >>> 16;
      o += (entry >>> 24) & 3;
      const bits = entry >>> 26;
      buf <<= bits;
      cnt -= bits;
    } else {
      let pos = (p - start) * 8 - cnt;
      pos = decodeSlow(stream, start, pos, availableBits, shape, out, o);
      o++;
      p = start + (pos >>> 3);
      buf = 0;
      cnt = 0;
      if (p <= fastSrcEnd) {
        while (cnt <= 24) {
          buf |= (stream[p++] as number) << (24 - cnt);
          cnt += 8;
        }
        buf <<= pos & 7;
        cnt -= pos & 7;
      } else {
        // Hand the exact position to the tail loop below.
        p = start;
        cnt = -pos;
        break;
      }
    }
  }

  // Tail: one symbol at a time with explicit bounds, zero bits past the end.
  let pos = (p - start) * 8 - cnt;
  while (o < n) {
    const byteIndex = start + (pos >>> 3);
    const window =
      ((byteIndex < srcLength ? (stream[byteIndex] as number) : 0) << 16) |
      ((byteIndex + 1 < srcLength ? (stream[byteIndex + 1] as number) : 0) << 8) |
      (byteIndex + 2 < srcLength ? (stream[byteIndex + 2] as number) : 0);
    const entry = single[(window >>> (12 - (pos & 7))) & TABLE_MASK] as number;
    if (entry !== 0) {
      const length = entry >>> 8;
      if (pos + length > availableBits) {
        throw new HuffmanError('TRUNCATED_STREAM', `The bitstream ends inside symbol ${o + 1} of ${n}.`);
      }
      out[o++] = entry & 0xff;
      pos += length;
    } else {
      pos = decodeSlow(stream, start, pos, availableBits, shape, out, o);
      o++;
    }
  }
  return pos;
}
