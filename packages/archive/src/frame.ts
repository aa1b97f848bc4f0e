import { crc32 } from 'node:zlib';
import { ArchiveError } from './errors.js';

/**
 * File layout, format 2 (all integers little-endian):
 *
 *   header  8 bytes: "LIXA", u8 version (2), u8 flags (bit 0: encrypted), 2 reserved
 *   frame*  sync "\xff\xc1LX" | u32 payload length | u32 CRC-32 of (length ‖ payload)
 *           | payload | u32 payload length | end mark "LX\xc1\xff"
 *
 * The sync mark lets a reader skip a damaged stretch and find the next frame (0xFF and 0xC1
 * never occur in UTF-8 text and 0xC1 never as a msgpack type byte, so candidates are rare,
 * and the CRC, which also covers the length, rejects the false ones). The length and end
 * mark after the payload make the file walkable backwards, so the newest turns and the
 * metadata are read from the end without reading the rest.
 *
 * Payload kinds (first byte):
 *   TURNS (1) / BLOCK (2): u8 kind | u8 codec | u32 turn count | f64 first seq | f64 last seq
 *                          | u32 raw length | body (msgpack array of turns, compressed, then
 *                          AES-256-GCM sealed when encrypted, the 26-byte head as AAD)
 *   META (3):              u8 kind | u8 0 | f64 createdAt | f64 updatedAt | u32 turn count
 *                          | f64 last seq | f64 tail start (offset of the first TURNS frame
 *                          not yet compacted) | u32 tail raw bytes | u16 tail frames
 *   SESSION (4):           u8 kind | u8 0 | f64 createdAt | UTF-8 session id; the first frame
 *                          of files with a hashed name (h-…), whose name does not give the id back
 */
export const FILE_MAGIC = 'LIXA';
export const FORMAT_VERSION = 2;
export const FILE_HEADER_SIZE = 8;
export const SYNC = Buffer.from([0xff, 0xc1, 0x4c, 0x58]);
export const END_MARK = Buffer.from([0x4c, 0x58, 0xc1, 0xff]);
export const FRAME_HEAD_SIZE = 12;
export const FRAME_TRAILER_SIZE = 8;
export const FRAME_OVERHEAD = FRAME_HEAD_SIZE + FRAME_TRAILER_SIZE;
export const TURNS_HEAD_SIZE = 26;
export const META_PAYLOAD_SIZE = 52;
export const META_FRAME_SIZE = FRAME_OVERHEAD + META_PAYLOAD_SIZE;
/** A frame claiming more than this is corrupt: no block is ever written that large. */
export const MAX_FRAME_PAYLOAD = 256 * 1024 * 1024;

export enum FrameKind {
  Turns = 1,
  Block = 2,
  Meta = 3,
  Session = 4,
}

export interface SessionMeta {
  createdAt: number;
  updatedAt: number;
  turnCount: number;
  lastSeq: number;
  /** Offset of the first TURNS frame appended since the last compaction (= the file end when none). */
  tailStart: number;
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

export interface FileHeader {
  version: 1 | 2;
  encrypted: boolean;
}

export function fileHeader(encrypted: boolean): Buffer {
  const header = Buffer.alloc(FILE_HEADER_SIZE);
  header.write(FILE_MAGIC, 0, 'latin1');
  header[4] = FORMAT_VERSION;
  header[5] = encrypted ? 1 : 0;
  return header;
}

export function parseFileHeader(bytes: Uint8Array): FileHeader {
  if (bytes.byteLength < FILE_HEADER_SIZE || Buffer.from(bytes.buffer, bytes.byteOffset, 4).toString('latin1') !== FILE_MAGIC) {
    throw new ArchiveError('CORRUPT_FILE', 'not an archive file (bad magic)');
  }
  const version = bytes[4];
  if (version !== 1 && version !== 2) {
    throw new ArchiveError('UNSUPPORTED_VERSION', `archive format version ${version} is not supported (this release reads 1 and ${FORMAT_VERSION})`);
  }
  return { version, encrypted: ((bytes[5] ?? 0) & 1) === 1 };
}

function frameCrc(payload: Uint8Array, lengthBytes: Uint8Array): number {
  return crc32(payload, crc32(lengthBytes));
}

export function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_OVERHEAD + payload.byteLength);
  SYNC.copy(out, 0);
  out.writeUInt32LE(payload.byteLength, 4);
  out.writeUInt32LE(frameCrc(payload, out.subarray(4, 8)), 8);
  out.set(payload, FRAME_HEAD_SIZE);
  const tail = FRAME_HEAD_SIZE + payload.byteLength;
  out.writeUInt32LE(payload.byteLength, tail);
  END_MARK.copy(out, tail + 4);
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
  out.writeDoubleLE(meta.tailStart, 30);
  out.writeUInt32LE(Math.min(meta.tailRawBytes, 0xffffffff), 38);
  out.writeUInt16LE(Math.min(meta.tailFrames, 0xffff), 42);
  return out;
}

export function parseMetaPayload(payload: Buffer): SessionMeta {
  return {
    createdAt: payload.readDoubleLE(2),
    updatedAt: payload.readDoubleLE(10),
    turnCount: payload.readUInt32LE(18),
    lastSeq: payload.readDoubleLE(22),
    tailStart: payload.readDoubleLE(30),
    tailRawBytes: payload.readUInt32LE(38),
    tailFrames: payload.readUInt16LE(42),
  };
}

export function sessionPayload(sessionId: string, createdAt: number): Buffer {
  const id = Buffer.from(sessionId, 'utf8');
  const out = Buffer.alloc(10 + id.byteLength);
  out[0] = FrameKind.Session;
  out.writeDoubleLE(createdAt, 2);
  id.copy(out, 10);
  return out;
}

export function parseSessionPayload(payload: Buffer): { sessionId: string; createdAt: number } {
  return { createdAt: payload.readDoubleLE(2), sessionId: payload.toString('utf8', 10) };
}

export interface ScannedFrame {
  kind: FrameKind;
  /** Offset of the frame (its sync mark) in the file. */
  offset: number;
  /** Offset just past the frame. */
  end: number;
  payload: Buffer;
}

/** A stretch of the file that holds no valid frame. */
export interface DamagedRange {
  start: number;
  end: number;
}

function payloadLooksValid(payload: Buffer): boolean {
  const kind = payload[0];
  if (kind === FrameKind.Meta) return payload.byteLength === META_PAYLOAD_SIZE;
  if (kind === FrameKind.Turns || kind === FrameKind.Block) return payload.byteLength >= TURNS_HEAD_SIZE;
  if (kind === FrameKind.Session) return payload.byteLength >= 10;
  return false;
}

/**
 * The frame starting at `offset` of `buf` (which holds the file from `base` on), or
 * `undefined` when there is none: bad sync, length, CRC, end mark or kind.
 */
export function frameAt(buf: Buffer, offset: number, base = 0): ScannedFrame | undefined {
  const at = offset - base;
  if (at < 0 || at + FRAME_OVERHEAD > buf.byteLength) return undefined;
  if (buf[at] !== SYNC[0] || buf[at + 1] !== SYNC[1] || buf[at + 2] !== SYNC[2] || buf[at + 3] !== SYNC[3]) return undefined;
  const length = buf.readUInt32LE(at + 4);
  if (length === 0 || length > MAX_FRAME_PAYLOAD) return undefined;
  const payloadEnd = at + FRAME_HEAD_SIZE + length;
  if (payloadEnd + FRAME_TRAILER_SIZE > buf.byteLength) return undefined;
  if (buf.readUInt32LE(payloadEnd) !== length || !buf.subarray(payloadEnd + 4, payloadEnd + 8).equals(END_MARK)) return undefined;
  const payload = buf.subarray(at + FRAME_HEAD_SIZE, payloadEnd);
  if (frameCrc(payload, buf.subarray(at + 4, at + 8)) !== buf.readUInt32LE(at + 8)) return undefined;
  if (!payloadLooksValid(payload)) return undefined;
  return { kind: payload[0] as FrameKind, offset, end: offset + FRAME_OVERHEAD + length, payload };
}

/** The frame that ends exactly at `end` (file offset), read backwards; `undefined` when there is none. */
export function frameEndingAt(buf: Buffer, end: number, base = 0): ScannedFrame | undefined {
  const at = end - base;
  if (at - FRAME_OVERHEAD < 0 || at > buf.byteLength) return undefined;
  if (!buf.subarray(at - 4, at).equals(END_MARK)) return undefined;
  const length = buf.readUInt32LE(at - 8);
  if (length === 0 || length > MAX_FRAME_PAYLOAD || at - FRAME_OVERHEAD - length < 0) return undefined;
  return frameAt(buf, end - FRAME_OVERHEAD - length, base);
}

/** Bytes needed before `end` to hold the frame ending there, from its trailer; `undefined` when the trailer is bad. */
export function frameLengthEndingAt(trailer: Buffer): number | undefined {
  if (trailer.byteLength < FRAME_TRAILER_SIZE || !trailer.subarray(trailer.byteLength - 4).equals(END_MARK)) return undefined;
  const length = trailer.readUInt32LE(trailer.byteLength - 8);
  if (length === 0 || length > MAX_FRAME_PAYLOAD) return undefined;
  return length + FRAME_OVERHEAD;
}

/**
 * Walks the frames of a whole format-2 file forwards. A stretch that holds no valid frame
 * is skipped up to the next sync mark that starts a valid frame (LevelDB's log reader does
 * the same), so one bad byte costs the frame it is in, not the rest of the file.
 */
export function scanFrames(file: Buffer, start = FILE_HEADER_SIZE): { frames: ScannedFrame[]; damaged: DamagedRange[]; validEnd: number } {
  const frames: ScannedFrame[] = [];
  const damaged: DamagedRange[] = [];
  let offset = start;
  let validEnd = start;
  while (offset < file.byteLength) {
    const found = frameAt(file, offset);
    if (found) {
      frames.push(found);
      offset = found.end;
      validEnd = offset;
      continue;
    }
    let next = file.indexOf(SYNC, offset + 1);
    while (next >= 0 && !frameAt(file, next)) next = file.indexOf(SYNC, next + 1);
    const stop = next < 0 ? file.byteLength : next;
    damaged.push({ start: offset, end: stop });
    offset = stop;
  }
  return { frames, damaged, validEnd };
}
