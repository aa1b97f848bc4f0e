import { Packr } from 'msgpackr';
import { SessionWindowError } from './errors.js';
import type { ConversationMessage, JsonObject } from './types.js';
import { describe, validateMetadata } from './validate.js';

/**
 * Hot-window record layout (all integers big-endian):
 *
 * | bytes | field |
 * |---|---|
 * | 0–5 | seq (uint48) |
 * | 6 | flags: bit 0 = metadata present |
 * | 7–14 | timestamp, unix seconds (float64) |
 * | 15 | role length in UTF-8 bytes (uint8) |
 * | … | role (UTF-8) |
 * | (4 + m) | if flagged: metadata length (uint32), then the metadata as msgpack |
 * | rest | content (UTF-8) |
 *
 * The fixed-width seq prefix lets the Lua scripts read a record's seq with one
 * `string.byte` call; 6 bytes keep it exact in Lua's doubles (up to 2^48 − 1). Role and
 * content are raw UTF-8 rather than msgpack strings because `getContext` decodes the
 * whole window on every call: two native slices per record measured ~3× faster than a
 * msgpack decode of the same fields. Metadata, the only structured part, is msgpack.
 */
export const SEQ_PREFIX_BYTES = 6;

/** Largest seq a record can carry. */
export const MAX_RECORD_SEQ = 2 ** 48 - 1;

const HEADER_BYTES = 16;
const FLAG_METADATA = 1;

// Plain msgpack (no record extension, no structure sharing): a record must decode
// on its own, whichever process wrote it.
const packr = new Packr({ useRecords: false, moreTypes: false });

/** Reads the seq from a record's prefix (`-1` when the record is too short to hold one). */
export function recordSeq(record: Uint8Array): number {
  if (!(record instanceof Uint8Array)) throw new SessionWindowError('INVALID_ARGUMENT', 'recordSeq needs a Uint8Array');
  if (record.length < SEQ_PREFIX_BYTES) return -1;
  let seq = 0;
  for (let index = 0; index < SEQ_PREFIX_BYTES; index++) seq = seq * 256 + record[index]!;
  return seq;
}

type RecordFields = Pick<ConversationMessage, 'seq' | 'role' | 'content' | 'timestamp' | 'metadata'>;

/**
 * Serializes a message (without its embedding) into a hot-window record. Rejects a
 * malformed message with `INVALID_ARGUMENT` (or `INVALID_METADATA`).
 */
export function encodeRecord(message: RecordFields): Uint8Array {
  if (message === null || typeof message !== 'object') throw new SessionWindowError('INVALID_ARGUMENT', 'encodeRecord needs a message object');
  const { seq, role, content, timestamp } = message;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1 || seq > MAX_RECORD_SEQ) {
    throw new SessionWindowError('INVALID_ARGUMENT', `seq must be an integer from 1 to 2^48 - 1 (got ${describe(seq)})`);
  }
  if (typeof role !== 'string' || typeof content !== 'string') throw new SessionWindowError('INVALID_ARGUMENT', 'role and content must be strings');
  if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw new SessionWindowError('INVALID_ARGUMENT', 'timestamp must be a number');
  const roleBytes = Buffer.byteLength(role, 'utf8');
  if (roleBytes > 255) throw new SessionWindowError('INVALID_ARGUMENT', 'a role longer than 255 UTF-8 bytes does not fit a hot-window record');
  return encodeTrustedRecord({ seq, role, content, timestamp, metadata: validateMetadata(message.metadata, Number.MAX_SAFE_INTEGER) });
}

/** {@link encodeRecord} for fields this package already validated (the hot path). */
export function encodeTrustedRecord(message: RecordFields): Uint8Array {
  const { seq, role, content, timestamp } = message;
  const roleBytes = Buffer.byteLength(role, 'utf8');
  if (roleBytes > 255) throw new SessionWindowError('INVALID_ARGUMENT', 'a role longer than 255 UTF-8 bytes does not fit a hot-window record');
  let metadata: Uint8Array | undefined;
  for (const _key in message.metadata) {
    metadata = packr.pack(message.metadata);
    break;
  }
  const contentBytes = Buffer.byteLength(content, 'utf8');
  const size = HEADER_BYTES + roleBytes + (metadata === undefined ? 0 : 4 + metadata.length) + contentBytes;
  const record = Buffer.allocUnsafe(size);
  record.writeUIntBE(seq, 0, SEQ_PREFIX_BYTES);
  record[6] = metadata === undefined ? 0 : FLAG_METADATA;
  record.writeDoubleBE(timestamp, 7);
  record[15] = roleBytes;
  let offset = HEADER_BYTES + record.write(role, HEADER_BYTES, 'utf8');
  if (metadata !== undefined) {
    record.writeUInt32BE(metadata.length, offset);
    record.set(metadata, offset + 4);
    offset += 4 + metadata.length;
  }
  record.write(content, offset, 'utf8');
  // A plain Uint8Array view, as everything crossing the KVDriver is.
  return new Uint8Array(record.buffer, record.byteOffset, record.byteLength);
}

/**
 * Parses a hot-window record; `null` for bytes that are not one (a foreign value
 * under our key), so a corrupt entry makes the window rebuild instead of throwing.
 */
export function decodeRecord(record: Uint8Array): ConversationMessage | null {
  if (!(record instanceof Uint8Array)) throw new SessionWindowError('INVALID_ARGUMENT', 'decodeRecord needs a Uint8Array');
  if (record.length < HEADER_BYTES) return null;
  const bytes = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const seq = bytes.readUIntBE(0, SEQ_PREFIX_BYTES);
  const flags = bytes[6]!;
  if (seq < 1 || (flags & ~FLAG_METADATA) !== 0) return null;
  const timestamp = bytes.readDoubleBE(7);
  const roleEnd = HEADER_BYTES + bytes[15]!;
  if (roleEnd > bytes.length) return null;
  const role = bytes.toString('utf8', HEADER_BYTES, roleEnd);
  let offset = roleEnd;
  let metadata: JsonObject = {};
  if (flags & FLAG_METADATA) {
    if (offset + 4 > bytes.length) return null;
    const length = bytes.readUInt32BE(offset);
    const end = offset + 4 + length;
    if (end > bytes.length) return null;
    try {
      const decoded = packr.unpack(bytes.subarray(offset + 4, end)) as unknown;
      if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return null;
      metadata = decoded as JsonObject;
    } catch {
      return null;
    }
    offset = end;
  }
  return { seq, role, content: bytes.toString('utf8', offset), timestamp, metadata };
}
