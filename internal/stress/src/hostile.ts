import type { Rng } from './rng.js';

/**
 * Generators of bad input for the sweep: wrong types, boundary and oversized values,
 * hostile strings (path escapes, NUL, lone surrogates, glob and hash-tag characters).
 * Oversized values are built on demand, never kept.
 */

const cyclic: Record<string, unknown> = { name: 'cycle' };
cyclic.self = cyclic;

const NUMBERS: readonly unknown[] = [0, -0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, 1e-300, '1', '0x10', 10n];

const STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '..',
  '../../etc/passwd',
  '/etc/passwd',
  '..\\..\\windows',
  'C:\\Windows\\system32',
  '%2e%2e%2f',
  'CON',
  'nul.txt',
  '{tag}',
  'a{b}c',
  '*',
  '?',
  '[a-z]',
  'key with spaces',
  '\n\r\t',
  '\u202e\u200b',
  '🙂🙃',
  'é'.normalize('NFD'),
  '__proto__',
  'constructor',
  'toString',
];

/** Values of every JavaScript type, including hostile objects. */
export function anyValue(rng: Rng): unknown {
  switch (rng.int(0, 17)) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return rng.chance(0.5);
    case 3:
      return rng.pick(NUMBERS);
    case 4:
      return hostileString(rng);
    case 5:
      return {};
    case 6:
      return [];
    case 7:
      return [1, 'two', null];
    case 8:
      return cyclic;
    case 9:
      return () => 'function';
    case 10:
      return Symbol('hostile');
    case 11:
      return new Date(NaN);
    case 12:
      return Object.create(null) as object;
    case 13:
      return randomBytes(rng, rng.int(0, 64));
    case 14:
      return new Float32Array([NaN, Infinity, 1]);
    case 15:
      return new Map([['a', 1]]);
    case 16:
      return { toString: () => '../../escape', valueOf: () => 42 };
    default:
      return Promise.resolve('not awaited');
  }
}

/** A hostile string; one in twelve is oversized (1–9 MB). */
export function hostileString(rng: Rng): string {
  if (rng.chance(1 / 12)) return 'x'.repeat(rng.int(1, 9) * 1024 * 1024 + rng.int(0, 7));
  if (rng.chance(0.15)) return rng.pick(STRINGS).repeat(rng.int(100, 5000));
  return rng.pick(STRINGS);
}

/** A bad session id: a hostile string or a non-string. */
export function hostileSessionId(rng: Rng): unknown {
  return rng.chance(0.75) ? hostileString(rng) : anyValue(rng);
}

/** A hostile number-ish option value. */
export function hostileNumber(rng: Rng): unknown {
  return rng.chance(0.8) ? rng.pick(NUMBERS) : anyValue(rng);
}

/** Random bytes. */
export function randomBytes(rng: Rng, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = rng.int(0, 255);
  return bytes;
}

/** `valid` with a few bytes flipped, truncated, extended or spliced: a corrupted file or stream. */
export function corrupt(rng: Rng, valid: Uint8Array): Uint8Array {
  switch (rng.int(0, 5)) {
    case 0: {
      const copy = valid.slice();
      const flips = rng.int(1, 8);
      for (let i = 0; i < flips && copy.length > 0; i++) copy[rng.int(0, copy.length - 1)]! ^= 1 << rng.int(0, 7);
      return copy;
    }
    case 1:
      return valid.slice(0, rng.int(0, Math.max(0, valid.length - 1)));
    case 2: {
      const extended = new Uint8Array(valid.length + rng.int(1, 64));
      extended.set(valid);
      extended.set(randomBytes(rng, extended.length - valid.length), valid.length);
      return extended;
    }
    case 3: {
      const copy = valid.slice();
      // A length or count field blown up: the first bytes usually hold the header.
      for (let i = 0; i < Math.min(16, copy.length); i++) if (rng.chance(0.3)) copy[i] = 0xff;
      return copy;
    }
    case 4:
      return new Uint8Array(0);
    default:
      return randomBytes(rng, rng.int(1, 512));
  }
}

/** A bad embedding: wrong type, empty, non-finite, or oversized. */
export function hostileEmbedding(rng: Rng): unknown {
  switch (rng.int(0, 6)) {
    case 0:
      return new Float32Array(0);
    case 1:
      return new Float32Array([NaN, 0.5]);
    case 2:
      return new Float32Array(rng.int(70_000, 2_000_000));
    case 3:
      return [1, 'two', 3];
    case 4:
      return new Float64Array([0.1, 0.2]);
    case 5:
      return new Float32Array([Infinity, -Infinity]);
    default:
      return anyValue(rng);
  }
}
