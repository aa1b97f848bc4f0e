import { decode, type DecodeOptions } from './decoder.js';
import { encode, type EncodeOptions } from './encoder.js';
import { HuffmanError } from './errors.js';

/** `String.prototype.isWellFormed` (Node 20+, ES2024), absent from the ES2023 lib typings. */
interface WellFormedCheck {
  isWellFormed(): boolean;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 must surface as an error, not U+FFFD; ignoreBOM keeps a
// leading U+FEFF, as Python's bytes.decode('utf-8') does.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Encodes a string as UTF-8 and compresses it (the original's `encode_str`).
 *
 * @throws {HuffmanError} INVALID_ARGUMENT when `text` is not a string or holds
 *   a lone surrogate (it has no UTF-8 form, so it could not round-trip).
 */
export function encodeString(text: string, options?: EncodeOptions): Uint8Array {
  if (typeof text !== 'string') {
    throw new HuffmanError('INVALID_ARGUMENT', `text must be a string, got ${typeof text}.`);
  }
  if (!(text as unknown as WellFormedCheck).isWellFormed()) {
    throw new HuffmanError('INVALID_ARGUMENT', 'text holds a lone UTF-16 surrogate, which has no UTF-8 encoding; it would not round-trip.');
  }
  return encode(encoder.encode(text), options);
}

/**
 * Decompresses a stream and decodes the bytes as UTF-8 (the original's `decode_bytes`).
 *
 * @throws {HuffmanError} INVALID_UTF8 when the decoded bytes are not valid
 *   UTF-8, plus every code {@link decode} throws.
 */
export function decodeToString(stream: Uint8Array, options?: DecodeOptions): string {
  const bytes = decode(stream, options);
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new HuffmanError('INVALID_UTF8', 'The decoded bytes are not valid UTF-8; use decode() for binary data.', {
      cause,
    });
  }
}
