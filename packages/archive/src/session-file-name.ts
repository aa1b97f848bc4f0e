import { ArchiveError } from './errors.js';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const MAX_ENCODED_LENGTH = 240;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isKept(byte: number): boolean {
  return (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
}

/**
 * Maps a session id to the stem of its file name. Only `[a-z0-9-]` survive as they are;
 * every other UTF-8 byte (uppercase letters, `_`, `.`, separators, NUL) becomes `_xx`.
 * The mapping is injective and its output is all lowercase, so `Abc` and `abc` stay two
 * files even on a case-insensitive file system, and no id can name `..` or a path.
 * The `s-` prefix keeps Windows device names (`con`, `nul`, …) out of reach.
 */
export function sessionFileStem(sessionId: unknown): string {
  if (typeof sessionId !== 'string' || sessionId.length === 0) {
    throw new ArchiveError('INVALID_SESSION_ID', `session id must be a non-empty string, got ${describe(sessionId)}`);
  }
  if (LONE_SURROGATE.test(sessionId)) {
    // TextEncoder would turn a lone surrogate into U+FFFD, so two ids would share a file.
    throw new ArchiveError('INVALID_SESSION_ID', 'session id contains a lone UTF-16 surrogate');
  }
  if (sessionId.length > MAX_ENCODED_LENGTH) {
    throw new ArchiveError('INVALID_SESSION_ID', `session id is ${sessionId.length} characters; at most ${MAX_ENCODED_LENGTH / 3} to 240 fit in a file name`);
  }
  let stem = 's-';
  for (const byte of utf8.encode(sessionId)) {
    stem += isKept(byte) ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (stem.length > MAX_ENCODED_LENGTH + 2) {
    throw new ArchiveError('INVALID_SESSION_ID', `session id encodes to ${stem.length} characters, over the ${MAX_ENCODED_LENGTH} a file name allows`);
  }
  return stem;
}

/** Inverse of {@link sessionFileStem}; `undefined` for names this archive did not write. */
export function sessionIdFromStem(stem: string): string | undefined {
  if (!stem.startsWith('s-')) return undefined;
  const bytes: number[] = [];
  for (let i = 2; i < stem.length; i++) {
    const code = stem.charCodeAt(i);
    if (code === 0x5f) {
      const hex = stem.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (isKept(code)) {
      bytes.push(code);
    } else {
      return undefined;
    }
  }
  try {
    return utf8Strict.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

/** Legacy `.huff` files were named after the raw id; only plain names are looked up. */
export function legacyFileName(sessionId: string): string | undefined {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(sessionId)) return undefined;
  return `${sessionId}.huff`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return 'an empty string';
  return value === null ? 'null' : typeof value;
}
