import { crc32 } from 'node:zlib';
import { FILE_HEADER_SIZE, FrameKind, TURNS_HEAD_SIZE, type DamagedRange, type ScannedFrame } from './frame.js';

/**
 * Reader of format 1 (written before this release; a writer upgrades such a file to format
 * 2 the first time it appends to it):
 *
 *   header  8 bytes: "LIXA", u8 version (1), u8 flags, 2 reserved
 *   frame*  u32 payload length | u32 CRC-32 of the payload | payload
 *   TURNS (1) / BLOCK (2) payloads as in format 2; META (3): u8 kind | u8 0 | f64 createdAt
 *   | f64 updatedAt | u32 turn count | f64 last seq | u32 tail raw bytes | u16 tail frames
 */
const V1_FRAME_HEAD = 8;
const V1_META_PAYLOAD = 38;
export const V1_META_FRAME = V1_FRAME_HEAD + V1_META_PAYLOAD;

export interface V1Meta {
  createdAt: number;
  updatedAt: number;
  turnCount: number;
  lastSeq: number;
}

function parseV1Meta(payload: Buffer): V1Meta {
  return { createdAt: payload.readDoubleLE(2), updatedAt: payload.readDoubleLE(10), turnCount: payload.readUInt32LE(18), lastSeq: payload.readDoubleLE(22) };
}

/** The META frame that ends a format-1 file (`tail` = its last bytes), or `undefined` when torn. */
export function v1MetaFromTail(tail: Buffer): V1Meta | undefined {
  if (tail.byteLength < V1_META_FRAME) return undefined;
  const start = tail.byteLength - V1_META_FRAME;
  if (tail.readUInt32LE(start) !== V1_META_PAYLOAD) return undefined;
  const payload = tail.subarray(start + V1_FRAME_HEAD);
  if (payload[0] !== FrameKind.Meta || crc32(payload) !== tail.readUInt32LE(start + 4)) return undefined;
  return parseV1Meta(payload);
}

/** The latest META of a scanned format-1 file. */
export function v1MetaFromFrames(frames: ScannedFrame[]): V1Meta | undefined {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]!.kind === FrameKind.Meta) return parseV1Meta(frames[i]!.payload);
  return undefined;
}

function v1FrameAt(file: Buffer, offset: number): ScannedFrame | undefined {
  if (offset + V1_FRAME_HEAD > file.byteLength) return undefined;
  const length = file.readUInt32LE(offset);
  const end = offset + V1_FRAME_HEAD + length;
  if (length === 0 || end > file.byteLength) return undefined;
  const payload = file.subarray(offset + V1_FRAME_HEAD, end);
  const kind = payload[0] as FrameKind;
  if (kind === FrameKind.Meta ? length !== V1_META_PAYLOAD : (kind !== FrameKind.Turns && kind !== FrameKind.Block) || length < TURNS_HEAD_SIZE)
    return undefined;
  if (crc32(payload) !== file.readUInt32LE(offset + 4)) return undefined;
  return { kind, offset, end, payload };
}

/**
 * Walks a format-1 file. Format 1 has no sync mark, so past a damaged frame the reader
 * tries every following offset for a frame whose length, kind and CRC hold.
 */
export function scanV1Frames(file: Buffer): { frames: ScannedFrame[]; damaged: DamagedRange[] } {
  const frames: ScannedFrame[] = [];
  const damaged: DamagedRange[] = [];
  let offset = FILE_HEADER_SIZE;
  while (offset + V1_FRAME_HEAD <= file.byteLength) {
    const found = v1FrameAt(file, offset);
    if (found) {
      frames.push(found);
      offset = found.end;
      continue;
    }
    let next = offset + 1;
    while (next + V1_FRAME_HEAD <= file.byteLength && !v1FrameAt(file, next)) next++;
    const stop = next + V1_FRAME_HEAD <= file.byteLength ? next : file.byteLength;
    damaged.push({ start: offset, end: stop });
    offset = stop;
  }
  if (offset < file.byteLength) damaged.push({ start: offset, end: file.byteLength });
  return { frames, damaged };
}
