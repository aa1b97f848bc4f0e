/**
 * Stable codes of {@link HuffmanError}. They are part of the public API: a code
 * is never renamed or reused for another failure.
 *
 * - `BAD_MAGIC`: the stream does not start with ASCII `HCv1`.
 * - `TRUNCATED_HEADER`: the stream ends inside the fixed header or the symbol table.
 * - `TRUNCATED_STREAM`: the bitstream ends before the declared number of symbols
 *   is decoded, or is too short to possibly hold them.
 * - `INVALID_CODE_TABLE`: the symbol table is not a canonical prefix code:
 *   zero or more than 256 symbols, a code length of 0, pairs not sorted by
 *   (length, symbol), a duplicate symbol, or over-subscribed lengths
 *   (Kraft sum above 1).
 * - `INVALID_PADDING`: the padding field is above 7 or disagrees with where the
 *   last symbol ends.
 * - `INVALID_BITSTREAM`: the bits spell a code that the (incomplete) table does
 *   not assign to any symbol.
 * - `TRAILING_DATA`: bytes follow the end of the stream.
 * - `OUTPUT_TOO_LARGE`: the declared original length exceeds `maxOutputLength`.
 * - `INVALID_UTF8`: `decodeToString` decoded bytes that are not valid UTF-8.
 * - `INVALID_ARGUMENT`: the caller passed something the codec cannot take
 *   (not a `Uint8Array`, a bad option, input over 4 GiB − 1, a string with a lone surrogate).
 */
export type HuffmanErrorCode =
  | 'BAD_MAGIC'
  | 'TRUNCATED_HEADER'
  | 'TRUNCATED_STREAM'
  | 'INVALID_CODE_TABLE'
  | 'INVALID_PADDING'
  | 'INVALID_BITSTREAM'
  | 'TRAILING_DATA'
  | 'OUTPUT_TOO_LARGE'
  | 'INVALID_UTF8'
  | 'INVALID_ARGUMENT';

/** The one error type of `@lix/huffman`: every rejected input or argument throws it. */
export class HuffmanError extends Error {
  override name = 'HuffmanError';
  /** Stable machine-readable reason; see {@link HuffmanErrorCode}. */
  readonly code: HuffmanErrorCode;

  constructor(code: HuffmanErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a {@link HuffmanError} (optionally with the given code). */
export function isHuffmanError(error: unknown, code?: HuffmanErrorCode): error is HuffmanError {
  return error instanceof HuffmanError && (code === undefined || error.code === code);
}
