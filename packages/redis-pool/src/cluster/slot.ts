/**
 * Redis Cluster slot of a key: CRC16/XMODEM of the key (or of its hash tag) modulo 16384.
 * Computed here rather than borrowed from a client library so both drivers split
 * multi-key commands the same way, and the in-memory driver can check CROSS_SLOT too.
 */

const table = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  table[i] = crc;
}

import { KVError } from '../shared/errors.js';

const encoder = new TextEncoder();

/** CRC16 (XMODEM polynomial 0x1021), the checksum Redis Cluster uses for key slots. */
export function crc16(bytes: Uint8Array): number {
  if (!(bytes instanceof Uint8Array)) throw new KVError('INVALID_ARGUMENT', 'crc16 takes a Uint8Array');
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ table[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** Number of hash slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/**
 * The part of `key` that decides its slot: the text between the first `{` and the
 * next `}` when that is not empty (a hash tag), otherwise the whole key.
 */
export function hashTagOf(key: string): string {
  if (typeof key !== 'string') throw new KVError('INVALID_ARGUMENT', `keys must be strings, got ${key === null ? 'null' : typeof key}`);
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** The cluster slot (0..16383) of `key`, honouring hash tags as Redis does. */
export function keySlot(key: string): number {
  return crc16(encoder.encode(hashTagOf(key))) % CLUSTER_SLOTS;
}

/**
 * Groups keys (by their position in the input) per slot, keeping input order inside
 * each group, so per-slot replies can be put back in the caller's order.
 */
export function groupBySlot(keys: readonly string[]): Map<number, number[]> {
  if (!Array.isArray(keys)) throw new KVError('INVALID_ARGUMENT', 'groupBySlot takes an array of keys');
  const groups = new Map<number, number[]>();
  for (let index = 0; index < keys.length; index++) {
    const slot = keySlot(keys[index]!);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  }
  return groups;
}
