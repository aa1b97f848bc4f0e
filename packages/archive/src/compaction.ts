import { fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { decodeTurnsPayload, turnsFrame, type BlockCodec } from './block-codec.js';
import { ArchiveError } from './errors.js';
import {
  FILE_HEADER_SIZE,
  FRAME_HEAD_SIZE,
  FRAME_TRAILER_SIZE,
  FrameKind,
  META_FRAME_SIZE,
  SYNC,
  TURNS_HEAD_SIZE,
  frame,
  frameLengthEndingAt,
  metaPayload,
  scanFrames,
  type DamagedRange,
  type SessionMeta,
} from './frame.js';
import type { LeaseHandle } from './session-lock.js';
import type { ArchivedTurn } from './turn-records.js';

/** A block stops taking part in merges once it holds this much raw data: it is sealed for good. */
export const MAX_BLOCK_RAW = 64 * 1024;
/** A block merges with the newer data after it only when it is at most 1.5 times the size of what it merges with (size tiers, like an LSM tree). */
export const MERGE_RATIO = 1.5;
/**
 * When a session goes idle its tail merges with blocks up to eight times its size: a finished
 * conversation ends as one block (which compresses far better than several small ones), and
 * the work stays bounded by nine times the tail's size.
 */
export const IDLE_MERGE_RATIO = 8;
/** How many trailing blocks a compaction looks at. */
const MAX_CANDIDATES = 8;

/** A session file open for writing, under its lock. */
export interface OpenSession {
  fd: number;
  file: string;
  size: number;
  meta: SessionMeta;
  encrypted: boolean;
}

export interface CompactionContext {
  codec: BlockCodec;
  fsync: boolean;
  lease: LeaseHandle;
  /** {@link MERGE_RATIO} unless given. */
  mergeRatio?: number;
  onDamage?: (ranges: DamagedRange[]) => void;
}

interface Candidate {
  start: number;
  raw: number;
  lastSeq: number;
}

export function readExactly(fd: number, position: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, out, done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  return done === length ? out : out.subarray(0, done);
}

export function writeAt(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, position + done);
}

/** Blocks just before the tail, newest first, read from their heads only (no decoding). */
function trailingBlocks(fd: number, tailStart: number): { candidates: Candidate[]; metaBefore: number | undefined } {
  const candidates: Candidate[] = [];
  let metaBefore: number | undefined;
  let end = tailStart;
  for (let step = 0; step < MAX_CANDIDATES * 2 && end - FRAME_TRAILER_SIZE >= FILE_HEADER_SIZE; step++) {
    const need = frameLengthEndingAt(readExactly(fd, end - FRAME_TRAILER_SIZE, FRAME_TRAILER_SIZE));
    if (need === undefined || end - need < FILE_HEADER_SIZE) break;
    const start = end - need;
    const head = readExactly(fd, start, FRAME_HEAD_SIZE + TURNS_HEAD_SIZE);
    if (head.byteLength < FRAME_HEAD_SIZE + 1 || !head.subarray(0, 4).equals(SYNC)) break;
    const kind = head[FRAME_HEAD_SIZE];
    if (kind === FrameKind.Meta) {
      if (candidates.length === 0) metaBefore = start;
    } else if (kind === FrameKind.Block && head.byteLength === FRAME_HEAD_SIZE + TURNS_HEAD_SIZE) {
      candidates.push({ start, raw: head.readUInt32LE(FRAME_HEAD_SIZE + 22), lastSeq: head.readDoubleLE(FRAME_HEAD_SIZE + 14) });
      if (candidates.length >= MAX_CANDIDATES) break;
    } else {
      break;
    }
    end = start;
  }
  return { candidates, metaBefore };
}

/**
 * Compresses the tail (the TURNS frames since the last compaction) into one BLOCK, merged
 * with the trailing blocks of about its size, and puts it where those frames were. Sealed
 * blocks before that are never read, decoded or rewritten, and each turn takes part in at
 * most log₁.₅(MAX_BLOCK_RAW / tail size) merges, so the cost per append is bounded.
 *
 * Crash safety without a temporary file: the new block (with a META frame) is first
 * appended after everything, so the turns exist twice; only then is it copied over the
 * region it replaces and the file cut after it. A crash between the two leaves a file whose
 * copies are dropped by seq on reading. When the new block would not fit in the region, it
 * simply stays at the end.
 */
export function compactTail(session: OpenSession, context: CompactionContext): OpenSession {
  const { fd, meta } = session;
  if (meta.tailFrames === 0 || meta.tailStart >= session.size) return session;
  const { candidates, metaBefore } = trailingBlocks(fd, meta.tailStart);
  let current = meta.tailRawBytes;
  let merged = 0;
  for (const candidate of candidates) {
    if (candidate.raw > current * (context.mergeRatio ?? MERGE_RATIO) || candidate.raw + current > MAX_BLOCK_RAW) break;
    current += candidate.raw;
    merged++;
  }
  const regionStart = merged > 0 ? candidates[merged - 1]!.start : (metaBefore ?? meta.tailStart);
  const floor = candidates[merged]?.lastSeq ?? 0;
  const region = readExactly(fd, regionStart, session.size - regionStart);
  const scanned = scanFrames(region, 0);
  if (scanned.damaged.length > 0) context.onDamage?.(scanned.damaged.map((r) => ({ start: r.start + regionStart, end: r.end + regionStart })));
  const turns: ArchivedTurn[] = [];
  let lastSeq = floor;
  for (const found of scanned.frames) {
    if (found.kind !== FrameKind.Turns && found.kind !== FrameKind.Block) continue;
    for (const turn of decodeTurnsPayload(found.payload, session.encrypted, context.codec.key)) {
      if (turn.seq <= lastSeq) continue;
      turns.push(turn);
      lastSeq = turn.seq;
    }
  }
  if (turns.length === 0) return session;
  const block = turnsFrame(FrameKind.Block, turns, context.codec, session.encrypted);
  const settled = { tailRawBytes: 0, tailFrames: 0 };
  const atEnd = { ...meta, ...settled, tailStart: session.size + block.byteLength + META_FRAME_SIZE };
  try {
    context.lease.assertHeld();
    writeAt(fd, Buffer.concat([block, frame(metaPayload(atEnd))]), session.size);
    if (context.fsync) fsyncSync(fd);
    const afterAppend: OpenSession = { ...session, size: atEnd.tailStart, meta: atEnd };
    if (block.byteLength + META_FRAME_SIZE > session.size - regionStart) return afterAppend;
    const inPlace = { ...meta, ...settled, tailStart: regionStart + block.byteLength + META_FRAME_SIZE };
    context.lease.assertHeld();
    writeAt(fd, Buffer.concat([block, frame(metaPayload(inPlace))]), regionStart);
    if (context.fsync) fsyncSync(fd);
    ftruncateSync(fd, inPlace.tailStart);
    if (context.fsync) fsyncSync(fd);
    return { ...session, size: inPlace.tailStart, meta: inPlace };
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError('IO_ERROR', `cannot compact ${session.file}`, { cause: error });
  }
}
