import { Packr } from 'msgpackr';
import type { ConversationMessage, JsonObject } from './types.js';

/**
 * Hot-window record layout: a 6-byte big-endian seq, then a msgpack array
 * `[role, content, timestamp, metadata?]`. The fixed-width prefix lets the Lua
 * scripts read a record's seq with one `string.byte` call instead of decoding
 * msgpack; 6 bytes keep the seq exact in Lua's doubles (up to 2^48 − 1).
 */
export const SEQ_PREFIX_BYTES = 6;

/** Largest seq a record can carry. */
export const MAX_RECORD_SEQ = 2 ** 48 - 1;

// Plain msgpack (no record extension, no structure sharing): a record must decode
// on its own, whichever process wrote it.
const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });

/** Reads the seq from a record's prefix (`-1` when the record is too short to hold one). */
export function recordSeq(record: Uint8Array): number {
  if (record.length < SEQ_PREFIX_BYTES) return -1;
  let seq = 0;
  for (let index = 0; index < SEQ_PREFIX_BYTES; index++) seq = seq * 256 + record[index]!;
  return seq;
}

/** Serializes a message (without its embedding) into a hot-window record. */
export function encodeRecord(message: Pick<ConversationMessage, 'seq' | 'role' | 'content' | 'timestamp' | 'metadata'>): Uint8Array {
  const seq = message.seq;
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_RECORD_SEQ) throw new RangeError(`seq ${seq} does not fit a hot-window record`);
  const hasMetadata = Object.keys(message.metadata).length > 0;
  const body = packr.pack(hasMetadata ? [message.role, message.content, message.timestamp, message.metadata] : [message.role, message.content, message.timestamp]);
  const record = new Uint8Array(SEQ_PREFIX_BYTES + body.length);
  let rest = seq;
  for (let index = SEQ_PREFIX_BYTES - 1; index >= 0; index--) {
    record[index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  record.set(body, SEQ_PREFIX_BYTES);
  return record;
}

/**
 * Parses a hot-window record; `null` for bytes that are not one (a foreign value
 * under our key), so a corrupt entry makes the window rebuild instead of throwing.
 */
export function decodeRecord(record: Uint8Array): ConversationMessage | null {
  const seq = recordSeq(record);
  if (seq < 1) return null;
  let body: unknown;
  try {
    body = packr.unpack(record.subarray(SEQ_PREFIX_BYTES));
  } catch {
    return null;
  }
  if (!Array.isArray(body) || body.length < 3) return null;
  const [role, content, timestamp, metadata] = body as unknown[];
  if (typeof role !== 'string' || typeof content !== 'string' || typeof timestamp !== 'number') return null;
  const meta = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as JsonObject) : {};
  return { seq, role, content, timestamp, metadata: meta };
}
