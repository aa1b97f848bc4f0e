import { crc32 } from 'node:zlib';
import { ArchiveError } from './errors.js';

/**
 * File layout (all integers little-endian):
 *
 *   header  8 bytes: "LIXA", u8 version (1), u8 flags (bit 0: encrypted), 2 reserved
 *   frame*  u32 payload length, u32 CRC-32 of the payload, payload
 *
 * Payload kinds:
 *   TURNS (1) / BLOCK (2): u8 kind, u8 codec, u32 turn count, f64 first seq, f64 last seq,
 *                          u32 raw length, body (msgpack array of turns, compressed, then
 *                          AES-256-GCM sealed when encrypted; the 26-byte head is the AAD)
 *   META (3):              u8 kind, u8 0, f64 createdAt, f64 updatedAt, u32 turn count,
 *                          f64 last seq, u32 tail raw bytes, u16 tail frames
 *
 * Every append writes one TURNS frame and one META frame in a single write, so the
 * metadata of a session is always the last 46 bytes of its file: O(1) to read.
 */
export const FILE_MAGIC = 'LIXA';
export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 8;
export const FRAME_HEAD_SIZE = 8;
export const TURNS_HEAD_SIZE = 26;
export const META_PAYLOAD_SIZE = 38;
export const META_FRAME_SIZE = FRAME_HEAD_SIZE + META_PAYLOAD_SIZE;
/** A frame claiming more than this is corrupt: no block is ever written that large. */
export const MAX_FRAME_PAYLOAD = 256 * 1024 * 1024;

export const enum FrameKind {
  Turns = 1,
  Block = 2,
  Meta = 3,
}

export interface SessionMeta {
  createdAt: number;
  updatedAt: number;
  turnCount: number;
  lastSeq: number;
  /** Raw bytes appended since the last compaction. */
  tailRawBytes: number;
  /** TURNS frames appended since the last compaction. */
  tailFrames: number;
}

export interface TurnsHead {
  kind: FrameKind.Turns | FrameKind.Block;
  codec: number;
  count: number;
  firstSeq: number;
  lastSeq: number;
  rawLength: number;
}

export function fileHeader(encrypted: boolean): Uint8Array {
  const header = Buffer.alloc(FILE_HEADER_SIZE);
  header.write(FILE_MAGIC, 0, 'latin1');
  header[4] = FORMAT_VERSION;
  header[5] = encrypted ? 1 : 0;
  return header;
}

export function parseFileHeader(bytes: Uint8Array): { encrypted: boolean } {
  if (bytes.byteLength < FILE_HEADER_SIZE || Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') !== FILE_MAGIC) {
    throw new ArchiveError('CORRUPT_FILE', 'not an archive file (bad magic)');
  }
  if (bytes[4] !== FORMAT_VERSION) {
    throw new ArchiveError('UNSUPPORTED_VERSION', `archive format version ${bytes[4]} is not supported (this release reads ${FORMAT_VERSION})`);
  }
  return { encrypted: ((bytes[5] ?? 0) & 1) === 1 };
}

export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEAD_SIZE + payload.byteLength);
  out.writeUInt32LE(payload.byteLength, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, FRAME_HEAD_SIZE);
  return out;
}

export function turnsHead(head: TurnsHead): Buffer {
  const out = Buffer.allocUnsafe(TURNS_HEAD_SIZE);
  out[0] = head.kind;
  out[1] = head.codec;
  out.writeUInt32LE(head.count, 2);
  out.writeDoubleLE(head.firstSeq, 6);
  out.writeDoubleLE(head.lastSeq, 14);
  out.writeUInt32LE(head.rawLength, 22);
  return out;
}

export function parseTurnsHead(payload: Buffer): TurnsHead {
  if (payload.byteLength < TURNS_HEAD_SIZE) throw new ArchiveError('CORRUPT_FILE', 'turns frame shorter than its head');
  return {
    kind: payload[0] as FrameKind.Turns | FrameKind.Block,
    codec: payload[1]!,
    count: payload.readUInt32LE(2),
    firstSeq: payload.readDoubleLE(6),
    lastSeq: payload.readDoubleLE(14),
    rawLength: payload.readUInt32LE(22),
  };
}

export function metaPayload(meta: SessionMeta): Buffer {
  const out = Buffer.alloc(META_PAYLOAD_SIZE);
  out[0] = FrameKind.Meta;
  out.writeDoubleLE(meta.createdAt, 2);
  out.writeDoubleLE(meta.updatedAt, 10);
  out.writeUInt32LE(meta.turnCount, 18);
  out.writeDoubleLE(meta.lastSeq, 22);
  out.writeUInt32LE(Math.min(meta.tailRawBytes, 0xffffffff), 30);
  out.writeUInt16LE(Math.min(meta.tailFrames, 0xffff), 34);
  return out;
}

export function parseMetaPayload(payload: Buffer): SessionMeta {
  return {
    createdAt: payload.readDoubleLE(2),
    updatedAt: payload.readDoubleLE(10),
    turnCount: payload.readUInt32LE(18),
    lastSeq: payload.readDoubleLE(22),
    tailRawBytes: payload.readUInt32LE(30),
    tailFrames: payload.readUInt16LE(34),
  };
}

/** Reads the META frame that ends `tail` (the file's last bytes), or `undefined` when torn. */
export function metaFromTail(tail: Buffer): SessionMeta | undefined {
  if (tail.byteLength < META_FRAME_SIZE) return undefined;
  const start = tail.byteLength - META_FRAME_SIZE;
  if (tail.readUInt32LE(start) !== META_PAYLOAD_SIZE) return undefined;
  const payload = tail.subarray(start + FRAME_HEAD_SIZE);
  if (payload[0] !== FrameKind.Meta || crc32(payload) !== tail.readUInt32LE(start + 4)) return undefined;
  return parseMetaPayload(payload);
}

export interface ScannedFrame {
  kind: FrameKind;
  /** Offset of the frame (its length field) in the file. */
  offset: number;
  /** Offset just past the frame. */
  end: number;
  payload: Buffer;
}

/**
 * Walks the frames after the file header and stops at the first one that is cut short
 * or fails its checksum: everything before it is intact, everything after is dropped.
 */
export function scanFrames(file: Buffer): { frames: ScannedFrame[]; validEnd: number } {
  const frames: ScannedFrame[] = [];
  let offset = FILE_HEADER_SIZE;
  while (offset + FRAME_HEAD_SIZE <= file.byteLength) {
    const length = file.readUInt32LE(offset);
    const end = offset + FRAME_HEAD_SIZE + length;
    if (length === 0 || length > MAX_FRAME_PAYLOAD || end > file.byteLength) break;
    const payload = file.subarray(offset + FRAME_HEAD_SIZE, end);
    if (crc32(payload) !== file.readUInt32LE(offset + 4)) break;
    const kind = payload[0] as FrameKind;
    if (kind !== FrameKind.Turns && kind !== FrameKind.Block && kind !== FrameKind.Meta) break;
    if (kind === FrameKind.Meta && length !== META_PAYLOAD_SIZE) break;
    if (kind !== FrameKind.Meta && length < TURNS_HEAD_SIZE) break;
    frames.push({ kind, offset, end, payload });
    offset = end;
  }
  return { frames, validEnd: offset };
}
