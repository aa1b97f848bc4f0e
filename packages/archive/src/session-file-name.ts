import { createHash } from 'node:crypto';
import { assertValidSessionId } from './session-id.js';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
/** Longest escaped stem kept as the file name; longer ids get a hashed name. */
const MAX_ESCAPED_STEM = 240;
/** Readable part kept in front of the hash of a hashed name. */
const HASHED_PREFIX_LENGTH = 48;

function isKept(byte: number): boolean {
  return (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
}

function escapeId(sessionId: string): string {
  let out = '';
  for (const byte of utf8.encode(sessionId)) out += isKept(byte) ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * Maps a session id to the stem of its file name.
 *
 * - `s-<escaped>` when the escaped id fits in 240 characters: only `[a-z0-9-]` survive as
 *   they are, every other UTF-8 byte becomes `_xx`. Injective and all lowercase, so `Abc`
 *   and `abc` stay two files even on a case-insensitive file system, and no id can name
 *   `..`, a path or a Windows device (`con`, `nul`: the `s-` prefix keeps them out of reach).
 * - `h-<first 48 escaped characters>-<SHA-256 of the id's UTF-8, hex>` otherwise. The file
 *   stores the full id and a reader checks it, so even a hash collision cannot mix sessions.
 */
export function sessionFileStem(sessionId: unknown): string {
  assertValidSessionId(sessionId);
  const escaped = escapeId(sessionId);
  if (escaped.length <= MAX_ESCAPED_STEM) return `s-${escaped}`;
  let prefix = escaped.slice(0, HASHED_PREFIX_LENGTH);
  // Never cut an `_xx` escape in half: the prefix is for humans, keep it well-formed.
  const cut = prefix.lastIndexOf('_');
  if (cut >= 0 && cut > prefix.length - 3) prefix = prefix.slice(0, cut);
  return `h-${prefix}-${createHash('sha256').update(sessionId, 'utf8').digest('hex')}`;
}

/** True for a stem whose id must be read from the file (a hashed name). */
export function isHashedStem(stem: string): boolean {
  return /^h-[a-z0-9_-]*-[0-9a-f]{64}$/.test(stem);
}

/** Inverse of {@link sessionFileStem} for `s-` names; `undefined` for names this archive did not write or hashed ones. */
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
