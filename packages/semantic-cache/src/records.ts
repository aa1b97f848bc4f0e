import { SemanticCacheError } from './errors.js';
import { hostIsLittleEndian } from './vector.js';

/**
 * Layout of one scope's vector string (one Redis string value):
 *
 * ```
 * header   8 bytes  ASCII "SC1" + dimensions as 5 decimal digits, e.g. "SC100384"
 * record   24 + 4·dim bytes, repeated, oldest first:
 *            16 bytes  expiry, Unix ms as zero-padded decimal ASCII
 *             8 bytes  entry id, lowercase hex: the field of the response hash
 *          4·dim bytes  the unit-length vector, float32 little-endian
 * ```
 *
 * ASCII header fields let the Lua script read expiry and id with `string.sub` and
 * `tonumber` (no binary unpacking in Lua); 8 + 24 keeps every vector 4-byte aligned, so
 * the client scans the reply through one `Float32Array` view without copying.
 */
export const VECTOR_HEADER_BYTES = 8;
/** Bytes of a record before its vector. */
export const RECORD_META_BYTES = 24;
/** First three header bytes: format and version. */
export const VECTOR_MAGIC = 'SC1';

const ASCII_ZERO = 48;

/** Bytes of one record of `dimensions` components. */
export function recordSize(dimensions: number): number {
  return RECORD_META_BYTES + 4 * dimensions;
}

/** The 8-byte header text for `dimensions`. */
export function vectorHeader(dimensions: number): string {
  return VECTOR_MAGIC + String(dimensions).padStart(5, '0');
}

/** Expiry as the 16-digit text stored in a record. */
export function formatExpiry(expiresAtMs: number): string {
  return String(Math.max(0, Math.floor(expiresAtMs))).padStart(16, '0');
}

function corrupt(reason: string): SemanticCacheError {
  return new SemanticCacheError('CORRUPT_ENTRY', `The stored vector list is not in the SC1 format (${reason}); clear the scope with clearSession().`);
}

/** Reads the dimensions from a vector string's header; throws `CORRUPT_ENTRY` on anything else. */
export function readHeader(bytes: Uint8Array): { dimensions: number; count: number } {
  if (bytes.length < VECTOR_HEADER_BYTES) throw corrupt('shorter than its header');
  if (bytes[0] !== 0x53 || bytes[1] !== 0x43 || bytes[2] !== 0x31) throw corrupt('bad magic');
  let dimensions = 0;
  for (let i = 3; i < VECTOR_HEADER_BYTES; i++) {
    const digit = bytes[i]! - ASCII_ZERO;
    if (digit < 0 || digit > 9) throw corrupt('bad dimension digits');
    dimensions = dimensions * 10 + digit;
  }
  if (dimensions === 0) throw corrupt('zero dimensions');
  const size = recordSize(dimensions);
  const body = bytes.length - VECTOR_HEADER_BYTES;
  if (body % size !== 0) throw corrupt(`body of ${body} bytes is not a whole number of ${size}-byte records`);
  return { dimensions, count: body / size };
}

/** Parses a record's 16 ASCII expiry digits without allocating. */
function readExpiry(bytes: Uint8Array, offset: number): number {
  let value = 0;
  for (let i = offset; i < offset + 16; i++) {
    const digit = bytes[i]! - ASCII_ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Entry id (hash field) of record `index`. */
export function recordId(bytes: Uint8Array, dimensions: number, index: number): string {
  const offset = VECTOR_HEADER_BYTES + index * recordSize(dimensions) + 16;
  return String.fromCharCode(...bytes.subarray(offset, offset + 8));
}

/** Result of {@link scanBestMatch}. */
export interface ScanResult {
  /** Index of the most similar live record, or -1 when none is live. */
  index: number;
  /** Its dot product with the query (cosine similarity of unit vectors); -Infinity when none. */
  similarity: number;
  /** Records whose expiry is still ahead of `nowMs`. */
  live: number;
}

/**
 * Finds the live record most similar to `query` (unit length, same dimensions). One
 * `Float32Array` view over the whole reply (a `DataView` when the reply is not 4-byte
 * aligned or the host is big-endian, instead of copying ~78 KB); no allocation per record.
 * Records whose expiry is at or before `nowMs` are skipped: the set script trims them on
 * the next write.
 */
export function scanBestMatch(bytes: Uint8Array, dimensions: number, count: number, query: Float32Array, nowMs: number): ScanResult {
  const size = recordSize(dimensions);
  const floats = hostIsLittleEndian && bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : undefined;
  const view = floats === undefined ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
  const unrolled = dimensions - (dimensions % 4);
  let bestIndex = -1;
  let bestSimilarity = Number.NEGATIVE_INFINITY;
  let live = 0;
  for (let index = 0; index < count; index++) {
    const offset = VECTOR_HEADER_BYTES + index * size;
    if (readExpiry(bytes, offset) <= nowMs) continue;
    live++;
    let dot: number;
    if (floats !== undefined) {
      const base = (offset + RECORD_META_BYTES) >>> 2;
      // Four independent sums let the CPU overlap the multiply-adds (~1.5× faster than one chain).
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      let i = 0;
      for (; i < unrolled; i += 4) {
        d0 += floats[base + i]! * query[i]!;
        d1 += floats[base + i + 1]! * query[i + 1]!;
        d2 += floats[base + i + 2]! * query[i + 2]!;
        d3 += floats[base + i + 3]! * query[i + 3]!;
      }
      for (; i < dimensions; i++) d0 += floats[base + i]! * query[i]!;
      dot = d0 + d1 + d2 + d3;
    } else {
      const base = offset + RECORD_META_BYTES;
      dot = 0;
      for (let i = 0; i < dimensions; i++) dot += view!.getFloat32(base + i * 4, true) * query[i]!;
    }
    if (dot > bestSimilarity) {
      bestSimilarity = dot;
      bestIndex = index;
    }
  }
  // Rounding can push the dot product of two unit float32 vectors a hair past ±1.
  if (bestSimilarity > 1) bestSimilarity = 1;
  if (bestIndex >= 0 && bestSimilarity < -1) bestSimilarity = -1;
  return { index: bestIndex, similarity: bestSimilarity, live };
}

/** Live records' count (for stats) from a vector string. */
export function countLive(bytes: Uint8Array, nowMs: number): number {
  const { dimensions, count } = readHeader(bytes);
  const size = recordSize(dimensions);
  let live = 0;
  for (let index = 0; index < count; index++) if (readExpiry(bytes, VECTOR_HEADER_BYTES + index * size) > nowMs) live++;
  return live;
}
