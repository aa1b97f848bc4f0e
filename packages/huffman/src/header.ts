import { HuffmanError } from './errors.js';
import { FIXED_HEADER_LENGTH, MAGIC, MAX_FORMAT_CODE_LENGTH, PADDING_FIELD_LENGTH } from './format.js';

/** The fields of an HCv1 header, read and validated without decoding the bitstream. */
export interface HuffmanHeader {
  /** Number of bytes the stream decodes to. */
  readonly originalLength: number;
  /** Number of distinct symbols in the table (0 for the empty stream). */
  readonly symbolCount: number;
  /** The table's symbols in stream order, i.e. sorted by (code length, symbol). */
  readonly symbols: Uint8Array;
  /** Code length in bits of each entry of `symbols`. */
  readonly codeLengths: Uint8Array;
  /** Shortest code length (0 for the empty stream). */
  readonly minCodeLength: number;
  /** Longest code length (0 for the empty stream). */
  readonly maxCodeLength: number;
  /**
   * True when the code lengths fill the code space exactly (Kraft sum = 1).
   * Incomplete tables are accepted (a lone symbol's code `0` is one); bits that
   * fall into their unassigned space are rejected while decoding.
   */
  readonly complete: boolean;
  /** Unused low bits of the last bitstream byte (0–7). */
  readonly paddingBits: number;
  /** Byte offset where the bitstream starts. */
  readonly headerLength: number;
  /** Bytes from `headerLength` to the end of the given buffer. */
  readonly bitstreamLength: number;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) | ((bytes[offset + 1] as number) << 8) | ((bytes[offset + 2] as number) << 16) | ((bytes[offset + 3] as number) << 24)) >>> 0
  );
}

/** @internal Throws INVALID_ARGUMENT unless `value` is a Uint8Array. */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new HuffmanError('INVALID_ARGUMENT', `${what} must be a Uint8Array, got ${describe(value)}.`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Reads and validates the header of an HCv1 stream without decoding it: magic,
 * lengths, and that the symbol table is a canonical prefix code (sorted by
 * (length, symbol), no duplicates, Kraft sum ≤ 1 checked exactly).
 *
 * @throws {HuffmanError} BAD_MAGIC, TRUNCATED_HEADER, INVALID_CODE_TABLE,
 *   INVALID_PADDING or INVALID_ARGUMENT.
 */
export function readHeader(stream: Uint8Array): HuffmanHeader {
  assertBytes(stream, 'stream');
  const magicBytes = Math.min(stream.length, MAGIC.length);
  for (let i = 0; i < magicBytes; i++) {
    if (stream[i] !== MAGIC[i]) {
      throw new HuffmanError('BAD_MAGIC', 'Not an HCv1 stream: it does not start with the bytes "HCv1".');
    }
  }
  if (stream.length < FIXED_HEADER_LENGTH) {
    throw new HuffmanError('TRUNCATED_HEADER', `HCv1 header needs ${FIXED_HEADER_LENGTH} bytes, the stream has ${stream.length}.`);
  }
  const originalLength = readUint32(stream, 4);
  const symbolCount = (stream[8] as number) | ((stream[9] as number) << 8);

  if (originalLength === 0) {
    if (symbolCount !== 0) {
      throw new HuffmanError('INVALID_CODE_TABLE', `An empty HCv1 stream must declare 0 symbols, this one declares ${symbolCount}.`);
    }
    return {
      originalLength: 0,
      symbolCount: 0,
      symbols: new Uint8Array(0),
      codeLengths: new Uint8Array(0),
      minCodeLength: 0,
      maxCodeLength: 0,
      complete: true,
      paddingBits: 0,
      headerLength: FIXED_HEADER_LENGTH,
      bitstreamLength: stream.length - FIXED_HEADER_LENGTH,
    };
  }

  if (symbolCount === 0 || symbolCount > 256) {
    throw new HuffmanError('INVALID_CODE_TABLE', `The symbol table declares ${symbolCount} symbols; a byte stream of length ${originalLength} needs 1 to 256.`);
  }
  const headerLength = FIXED_HEADER_LENGTH + 2 * symbolCount + PADDING_FIELD_LENGTH;
  if (stream.length < headerLength) {
    throw new HuffmanError('TRUNCATED_HEADER', `HCv1 header with ${symbolCount} symbols needs ${headerLength} bytes, the stream has ${stream.length}.`);
  }

  const symbols = new Uint8Array(symbolCount);
  const codeLengths = new Uint8Array(symbolCount);
  const seen = new Uint8Array(256);
  let previousKey = -1;
  for (let i = 0; i < symbolCount; i++) {
    const symbol = stream[FIXED_HEADER_LENGTH + 2 * i] as number;
    const length = stream[FIXED_HEADER_LENGTH + 2 * i + 1] as number;
    if (length === 0) {
      throw new HuffmanError('INVALID_CODE_TABLE', `Symbol ${symbol} has code length 0.`);
    }
    if (seen[symbol] === 1) {
      throw new HuffmanError('INVALID_CODE_TABLE', `Symbol ${symbol} appears twice in the table.`);
    }
    seen[symbol] = 1;
    const key = length * 256 + symbol;
    if (key <= previousKey) {
      throw new HuffmanError('INVALID_CODE_TABLE', `Table entry ${i} (symbol ${symbol}, length ${length}) is not sorted by (length, symbol).`);
    }
    previousKey = key;
    symbols[i] = symbol;
    codeLengths[i] = length;
  }

  const minCodeLength = codeLengths[0] as number;
  const maxCodeLength = codeLengths[symbolCount - 1] as number;
  const complete = checkKraft(codeLengths, maxCodeLength);

  const paddingBits = readUint32(stream, headerLength - PADDING_FIELD_LENGTH);
  if (paddingBits > 7) {
    throw new HuffmanError('INVALID_PADDING', `Padding field says ${paddingBits} bits; it must be 0 to 7.`);
  }
  return {
    originalLength,
    symbolCount,
    symbols,
    codeLengths,
    minCodeLength,
    maxCodeLength,
    complete,
    paddingBits,
    headerLength,
    bitstreamLength: stream.length - headerLength,
  };
}

/**
 * Exact Kraft check over lengths up to 255 bits without BigInt: `left` is the
 * number of unassigned codes at the current length. Once it reaches 256 it can
 * never drop below zero again (at most 256 symbols remain and it doubles per
 * level), so capping it there keeps the arithmetic exact for the verdict.
 * Returns whether the code is complete; throws when over-subscribed.
 */
function checkKraft(codeLengths: Uint8Array, maxCodeLength: number): boolean {
  const countPerLength = new Uint16Array(MAX_FORMAT_CODE_LENGTH + 1);
  for (const length of codeLengths) countPerLength[length] = (countPerLength[length] as number) + 1;
  let left = 1;
  let capped = false;
  for (let length = 1; length <= maxCodeLength; length++) {
    left = left * 2 - (countPerLength[length] as number);
    if (left < 0) {
      throw new HuffmanError('INVALID_CODE_TABLE', `Code lengths are over-subscribed at ${length} bits (Kraft sum above 1): not a prefix code.`);
    }
    if (left >= 512) {
      left = 512;
      capped = true;
    }
  }
  return !capped && left === 0;
}
