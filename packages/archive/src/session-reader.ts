import type { FileHandle } from 'node:fs/promises';
import { decodeTurnsPayload } from './block-codec.js';
import { ArchiveError } from './errors.js';
import {
  FILE_HEADER_SIZE,
  FRAME_OVERHEAD,
  FRAME_TRAILER_SIZE,
  FrameKind,
  META_FRAME_SIZE,
  frameAt,
  frameEndingAt,
  frameLengthEndingAt,
  parseFileHeader,
  parseMetaPayload,
  parseSessionPayload,
  parseTurnsHead,
  scanFrames,
  type DamagedRange,
  type ScannedFrame,
  type SessionMeta,
} from './frame.js';
import { scanV1Frames, v1MetaFromFrames, type V1Meta } from './frame-v1.js';
import type { ArchivedTurn } from './turn-records.js';

/** Everything a full read of one session file found. */
export interface WholeRead {
  version: 1 | 2;
  encrypted: boolean;
  size: number;
  /** The id the file says it holds (format 2). */
  storedId: string | undefined;
  /** Every readable turn, seq order, duplicates (from an interrupted compaction) dropped. */
  turns: ArchivedTurn[];
  frames: ScannedFrame[];
  /** Stretches skipped because they hold no valid frame, except a torn end. */
  damaged: DamagedRange[];
  /** A cut-short last append (a writer died, or is writing right now). */
  tornTail: DamagedRange | undefined;
  /** The last META frame (format 2). */
  meta: SessionMeta | undefined;
  v1Meta: V1Meta | undefined;
}

/** Reads a whole session file (format 1 or 2), skipping damaged stretches. */
export function readWhole(bytes: Buffer, key: Uint8Array | undefined): WholeRead {
  const { version, encrypted } = parseFileHeader(bytes);
  if (encrypted && !key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
  const scanned = version === 1 ? scanV1Frames(bytes) : scanFrames(bytes);
  const damaged = [...scanned.damaged];
  let tornTail: DamagedRange | undefined;
  const last = damaged[damaged.length - 1];
  if (last && last.end === bytes.byteLength) tornTail = damaged.pop();
  const turns: ArchivedTurn[] = [];
  let storedId: string | undefined;
  let meta: SessionMeta | undefined;
  let lastSeq = 0;
  for (const found of scanned.frames) {
    if (found.kind === FrameKind.Session) {
      storedId ??= parseSessionPayload(found.payload).sessionId;
      continue;
    }
    if (found.kind === FrameKind.Meta) {
      if (version === 2) meta = parseMetaPayload(found.payload);
      continue;
    }
    let decoded: ArchivedTurn[];
    try {
      decoded = decodeTurnsPayload(found.payload, encrypted, key);
    } catch (error) {
      if (error instanceof ArchiveError && error.code === 'CORRUPT_FILE') {
        // The CRC held but the block does not decode: count it as damage, keep the rest.
        damaged.push({ start: found.offset, end: found.end });
        continue;
      }
      throw error;
    }
    for (const turn of decoded) {
      // Seqs only grow in a file; a smaller one is a copy left by an interrupted compaction.
      if (turn.seq <= lastSeq) continue;
      turns.push(turn);
      lastSeq = turn.seq;
    }
  }
  damaged.sort((a, b) => a.start - b.start);
  return {
    version,
    encrypted,
    size: bytes.byteLength,
    storedId,
    turns,
    frames: scanned.frames,
    damaged,
    tornTail,
    meta,
    v1Meta: version === 1 ? v1MetaFromFrames(scanned.frames) : undefined,
  };
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? out : out.subarray(0, done);
}

/** The META frame that ends a format-2 file, or `undefined` (torn or damaged end). */
export async function readMetaAtEnd(handle: FileHandle, size: number): Promise<SessionMeta | undefined> {
  if (size < FILE_HEADER_SIZE + META_FRAME_SIZE) return undefined;
  const tail = await readAt(handle, size - META_FRAME_SIZE, META_FRAME_SIZE);
  const found = frameEndingAt(tail, size, size - META_FRAME_SIZE);
  if (!found || found.kind !== FrameKind.Meta) return undefined;
  return parseMetaPayload(found.payload);
}

/** The SESSION frame right after the header of a format-2 file: the id it holds. */
export async function readStoredId(handle: FileHandle, size: number): Promise<string | undefined> {
  // 512 UTF-16 units are at most 1,536 UTF-8 bytes.
  const length = Math.min(size, FILE_HEADER_SIZE + FRAME_OVERHEAD + 10 + 1536);
  const head = await readAt(handle, 0, length);
  const found = frameAt(head, FILE_HEADER_SIZE);
  return found?.kind === FrameKind.Session ? parseSessionPayload(found.payload).sessionId : undefined;
}

const FIRST_READ = 64 * 1024;

/** The first read of {@link readNewest}, started early (alongside the header's read) by a caller that knows the size. */
export function readNewestStart(handle: FileHandle, size: number): Promise<Buffer> {
  const base = Math.max(FILE_HEADER_SIZE, size - FIRST_READ);
  return readAt(handle, base, size - base);
}

/**
 * Reads turns from the end of a format-2 file backwards, frame by frame, until
 * `enough(collected, oldestFrameFirstSeq)` says so or the start is reached: O(what is
 * returned), not O(file). Resolves `undefined` when a frame on the way does not check out
 * (damage, or a concurrent compaction); the caller then falls back to a full read.
 */
export async function readNewest(
  handle: FileHandle,
  size: number,
  encrypted: boolean,
  key: Uint8Array | undefined,
  enough: (collected: number, frameFirstSeq: number) => boolean,
  firstRead?: Promise<Buffer>,
): Promise<ArchivedTurn[] | undefined> {
  let base = Math.max(FILE_HEADER_SIZE, size - FIRST_READ);
  let buf = await (firstRead ?? readAt(handle, base, size - base));
  if (buf.byteLength !== size - base) return undefined;
  const grow = async (to: number) => {
    const from = Math.max(FILE_HEADER_SIZE, Math.min(to, base - buf.byteLength));
    const more = await readAt(handle, from, base - from);
    if (more.byteLength !== base - from) return false;
    buf = Buffer.concat([more, buf]);
    base = from;
    return true;
  };
  const chunks: ArchivedTurn[][] = [];
  let floor = Number.POSITIVE_INFINITY;
  let collected = 0;
  let end = size;
  while (end > FILE_HEADER_SIZE) {
    if (end - base < FRAME_TRAILER_SIZE && !(await grow(end - FRAME_TRAILER_SIZE))) return undefined;
    const need = frameLengthEndingAt(buf.subarray(end - base - FRAME_TRAILER_SIZE, end - base));
    if (need === undefined || end - need < FILE_HEADER_SIZE) return undefined;
    if (end - need < base && !(await grow(end - need))) return undefined;
    const found = frameEndingAt(buf, end, base);
    if (!found) return undefined;
    end = found.offset;
    if (found.kind === FrameKind.Session) break;
    if (found.kind === FrameKind.Meta) continue;
    let decoded: ArchivedTurn[];
    try {
      decoded = decodeTurnsPayload(found.payload, encrypted, key);
    } catch (error) {
      if (error instanceof ArchiveError && error.code === 'CORRUPT_FILE') return undefined;
      throw error;
    }
    // Walking backwards, a seq at or above the floor is a copy of a newer turn already taken.
    const kept = decoded.filter((turn) => turn.seq < floor);
    if (kept.length > 0) {
      chunks.push(kept);
      floor = kept[0]!.seq;
      collected += kept.length;
    }
    if (enough(collected, parseTurnsHead(found.payload).firstSeq)) break;
  }
  return chunks.reverse().flat();
}
