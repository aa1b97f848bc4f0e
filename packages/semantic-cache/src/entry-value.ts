import { SemanticCacheError } from './errors.js';

/**
 * The byte that starts an entry value carrying a meta: 0xC1 is the one byte msgpack never
 * uses, so a value without meta (written before expiry modes and tags existed) is plain
 * msgpack and still reads as it did.
 */
export const META_MARKER = 0xc1;
/** Longest meta: 3 + 13 + 13 + 33 tags × 47 characters fits with room to spare. */
export const MAX_META_BYTES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One hash field holds the entry: `0xC1, meta length (2 bytes, big-endian), meta (ASCII),
 * msgpack response`. Keeping the meta in the response's own field means a hit reads
 * both with the HGET it always did (no second field, no script), and a trim that HDELs
 * the field drops both.
 */
export function packEntryValue(meta: string, response: Uint8Array): Uint8Array {
  const metaBytes = encoder.encode(meta);
  if (metaBytes.length > MAX_META_BYTES)
    throw new SemanticCacheError('INVALID_TAG', `The entry's tags take ${metaBytes.length} bytes of meta; at most ${MAX_META_BYTES} fit.`);
  const value = new Uint8Array(3 + metaBytes.length + response.length);
  value[0] = META_MARKER;
  value[1] = metaBytes.length >> 8;
  value[2] = metaBytes.length & 0xff;
  value.set(metaBytes, 3);
  value.set(response, 3 + metaBytes.length);
  return value;
}

/** Splits a stored value into its meta (`null` for a value without one) and its msgpack response. */
export function unpackEntryValue(value: Uint8Array): { meta: string | null; response: Uint8Array } {
  if (value.length === 0 || value[0] !== META_MARKER) return { meta: null, response: value };
  if (value.length < 3)
    throw new SemanticCacheError('CORRUPT_ENTRY', 'A stored entry is cut short inside its meta header; clear the scope with clearSession().');
  const length = (value[1]! << 8) | value[2]!;
  if (3 + length > value.length)
    throw new SemanticCacheError('CORRUPT_ENTRY', 'A stored entry is cut short inside its meta; clear the scope with clearSession().');
  return { meta: decoder.decode(value.subarray(3, 3 + length)), response: value.subarray(3 + length) };
}

/** Lua: `local meta = metaOf(value)` — the meta text of a stored value, or nil. */
export const META_OF_LUA = `
local function metaOf(value)
  if not value or string.byte(value, 1) ~= ${META_MARKER} or #value < 3 then return nil end
  local length = string.byte(value, 2) * 256 + string.byte(value, 3)
  return string.sub(value, 4, 3 + length)
end
`;

/** The 16-digit expiry of the record at `offset` of a vector string (0 when unreadable, so any extension looks worth it). */
export function storedExpiryAt(packed: Uint8Array, offset: number): number {
  let value = 0;
  for (let i = offset; i < offset + 16; i++) {
    const digit = packed[i]! - 48;
    if (!(digit >= 0 && digit <= 9)) return 0;
    value = value * 10 + digit;
  }
  return value;
}
