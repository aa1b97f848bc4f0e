import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { open, opendir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { codecFromId, codecIds, compress, decompress, type ArchiveCodec } from './codecs.js';
import { ArchiveError } from './errors.js';
import {
  FILE_HEADER_SIZE,
  FrameKind,
  META_FRAME_SIZE,
  TURNS_HEAD_SIZE,
  fileHeader,
  frame,
  metaFromTail,
  metaPayload,
  parseFileHeader,
  parseMetaPayload,
  parseTurnsHead,
  scanFrames,
  turnsHead,
  type ScannedFrame,
  type SessionMeta,
} from './frame.js';
import { parseLegacyHeader, readLegacyTurns } from './legacy.js';
import { checkKey, seal, unseal } from './sealing.js';
import { legacyFileName, sessionFileStem, sessionIdFromStem } from './session-file-name.js';
import { SessionLocks } from './session-lock.js';
import { checkCount, checkOptionKeys, toQueryVector, toTurnArray } from './validate.js';
import { rankByBm25, rankByCosine, type ScoredTurn } from './text-search.js';
import type { AppendResult, ArchiveStore, SessionMetadata } from './store.js';
import { decodeTurns, encodeTurns, normalizeTurn, type ArchivedTurn, type ArchiveTurnInput } from './turn-records.js';

/** Where the archive sends diagnostics; every method is optional. */
export interface ArchiveLogger {
  debug?(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
  warn?(message: string, context?: Record<string, unknown>): void;
  error?(message: string, context?: Record<string, unknown>): void;
}

/** Options of {@link ConversationArchive}. */
export interface ConversationArchiveOptions {
  /** Folder holding one file per session; created when missing. */
  dir: string;
  /** Sessions not updated for this many days are removed by `cleanupExpired` (default 14). */
  ttlDays?: number;
  /** Codec for compacted blocks and appended batches (default `'brotli'`, chosen by the benchmark). */
  codec?: ArchiveCodec;
  /** 32-byte AES-256-GCM key; turns are then encrypted at rest. */
  encryptionKey?: Uint8Array;
  /** Also fsync each append and compaction, for power-loss durability (default false). */
  fsync?: boolean;
  /** Appended raw bytes after which the tail is compacted into a block (default 8 KiB). */
  compactAfterBytes?: number;
  /** Appended batches after which the tail is compacted into a block (default 8). */
  compactAfterAppends?: number;
  /** How long a writer waits for another process's lock on the same session (default 10 s). */
  lockTimeoutMs?: number;
  /**
   * A lock whose lease was not renewed for this long is taken over (default 3 s): how long a
   * writer killed while holding the lock can block its session. Keep it above the longest
   * pause (GC, swap) a live writer may have.
   */
  lockStaleMs?: number;
  logger?: ArchiveLogger;
  /** Time source in milliseconds (default `Date.now`). */
  clock?: { now(): number };
}

const OPTION_KEYS: readonly (keyof ConversationArchiveOptions)[] = [
  'dir',
  'ttlDays',
  'codec',
  'encryptionKey',
  'fsync',
  'compactAfterBytes',
  'compactAfterAppends',
  'lockTimeoutMs',
  'lockStaleMs',
  'logger',
  'clock',
];

/** Blocks stop absorbing the tail once they hold this much raw data. */
const MAX_BLOCK_RAW = 256 * 1024;

interface LoadedFile {
  meta: SessionMeta;
  turns: ArchivedTurn[];
  /** Frames as found, for compaction. */
  frames: ScannedFrame[];
  encrypted: boolean;
  /** False when a damaged frame stops the scan before the end of the file. */
  intact: boolean;
}

/**
 * The cold tier: one append-only, checksummed file per session. Appends cost the same at
 * turn 10 and turn 10 000; a crash leaves every acknowledged turn readable; legacy
 * `.huff` files from the Python original load transparently.
 */
export class ConversationArchive implements ArchiveStore {
  readonly dir: string;
  private readonly ttlDays: number;
  private readonly codec: ArchiveCodec;
  private readonly key: Uint8Array | undefined;
  private readonly fsync: boolean;
  private readonly compactAfterBytes: number;
  private readonly compactAfterAppends: number;
  private readonly locks: SessionLocks;
  private readonly logger: ArchiveLogger | undefined;
  private readonly clock: { now(): number };
  private closed = false;

  constructor(options: ConversationArchiveOptions) {
    checkOptionKeys('ConversationArchive', options, OPTION_KEYS);
    if (typeof options.dir !== 'string' || options.dir === '') {
      throw new ArchiveError('INVALID_ARGUMENT', 'ConversationArchive needs options.dir, the archive folder');
    }
    const codec = options.codec ?? 'brotli';
    if (!(codec in codecIds)) throw new ArchiveError('INVALID_ARGUMENT', `unknown codec ${String(codec)}`);
    const ttlDays = options.ttlDays ?? 14;
    if (!(ttlDays > 0)) throw new ArchiveError('INVALID_ARGUMENT', 'ttlDays must be a positive number');
    this.dir = options.dir;
    this.ttlDays = ttlDays;
    this.codec = codec;
    this.key = checkKey(options.encryptionKey);
    this.fsync = options.fsync ?? false;
    this.compactAfterBytes = options.compactAfterBytes ?? 8 * 1024;
    this.compactAfterAppends = options.compactAfterAppends ?? 8;
    this.locks = new SessionLocks(options.lockTimeoutMs ?? 10_000, options.lockStaleMs ?? 3_000);
    this.logger = options.logger;
    this.clock = options.clock ?? { now: () => Date.now() };
    mkdirSync(this.dir, { recursive: true });
  }

  private paths(sessionId: string): { file: string; lock: string; legacy: string | undefined } {
    const stem = sessionFileStem(sessionId);
    const legacy = legacyFileName(sessionId);
    return { file: join(this.dir, `${stem}.lix`), lock: join(this.dir, `${stem}.lock`), legacy: legacy ? join(this.dir, legacy) : undefined };
  }

  private checkOpen(): void {
    if (this.closed) throw new ArchiveError('CLOSED', 'the archive was closed');
  }

  private nowSeconds(): number {
    return this.clock.now() / 1000;
  }

  /** Appends one turn; see {@link appendTurns}. */
  async appendTurn(sessionId: string, turn: ArchiveTurnInput): Promise<AppendResult> {
    return this.appendTurns(sessionId, [turn]);
  }

  /**
   * Appends turns atomically with respect to every other writer of the session, in any
   * process. Per turn: without `seq` it gets lastSeq + 1; with `seq` ≤ lastSeq it is
   * skipped (already stored, so retries are idempotent); with a larger `seq` it is stored
   * and becomes lastSeq. Resolves once the bytes are written (and fsynced with `fsync`).
   */
  async appendTurns(sessionId: string, input: Iterable<ArchiveTurnInput>): Promise<AppendResult> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    const turns = toTurnArray<ArchiveTurnInput>(input);
    const now = this.nowSeconds();
    for (const turn of turns) normalizeTurn(turn, 1, now);
    return this.locks.withLock(paths.lock, async (lease) => {
      if (paths.legacy && !existsSync(paths.file) && existsSync(paths.legacy)) await this.migrateLocked(sessionId, paths.file, paths.legacy);
      const state = await this.readStateLocked(paths.file);
      let lastSeq = state?.lastSeq ?? 0;
      const seqs: number[] = [];
      const fresh: ArchivedTurn[] = [];
      for (const input of turns) {
        const wanted = input.seq ?? lastSeq + 1;
        seqs.push(wanted);
        if (wanted <= lastSeq) continue;
        fresh.push(normalizeTurn(input, wanted, now));
        lastSeq = wanted;
      }
      if (fresh.length === 0) return { appended: 0, skipped: turns.length, lastSeq, seqs };
      const encrypted = state ? state.encrypted : this.key !== undefined;
      if (encrypted && !this.key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
      const raw = encodeTurns(fresh);
      const meta: SessionMeta = {
        createdAt: state?.createdAt ?? now,
        updatedAt: now,
        turnCount: (state?.turnCount ?? 0) + fresh.length,
        lastSeq,
        tailRawBytes: (state?.tailRawBytes ?? 0) + raw.byteLength,
        tailFrames: (state?.tailFrames ?? 0) + 1,
      };
      const parts: Uint8Array[] = [];
      if (!state) parts.push(fileHeader(encrypted));
      parts.push(this.turnsFrame(FrameKind.Turns, fresh, raw), frame(metaPayload(meta)));
      lease.assertHeld();
      await this.writeAppend(paths.file, Buffer.concat(parts));
      if (meta.tailRawBytes >= this.compactAfterBytes || meta.tailFrames >= this.compactAfterAppends) {
        await this.compactLocked(paths.file);
      }
      return { appended: fresh.length, skipped: turns.length - fresh.length, lastSeq, seqs };
    });
  }

  private turnsFrame(kind: FrameKind.Turns | FrameKind.Block, turns: ArchivedTurn[], raw: Uint8Array): Buffer {
    const head = turnsHead({
      kind,
      codec: codecIds[this.codec],
      count: turns.length,
      firstSeq: turns[0]!.seq,
      lastSeq: turns[turns.length - 1]!.seq,
      rawLength: raw.byteLength,
    });
    const packed = compress(this.codec, raw);
    const body = this.key ? seal(this.key, packed, head) : packed;
    return frame(Buffer.concat([head, body]));
  }

  private async writeAppend(file: string, bytes: Buffer): Promise<void> {
    let fd: number | undefined;
    try {
      // Synchronous and in one write call: short syscalls under the lock, and a crash
      // tears at most this append, which was not yet acknowledged.
      fd = openSync(file, 'a');
      writeAll(fd, bytes);
      if (this.fsync) fsyncSync(fd);
    } catch (error) {
      throw new ArchiveError('IO_ERROR', `cannot append to ${file}`, { cause: error });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** The session's state for a writer, repairing a torn tail (the caller holds the lock). */
  private async readStateLocked(file: string): Promise<(SessionMeta & { encrypted: boolean }) | undefined> {
    let fd: number;
    try {
      fd = openSync(file, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArchiveError('IO_ERROR', `cannot open ${file}`, { cause: error });
    }
    try {
      const size = fstatSync(fd).size;
      if (size < FILE_HEADER_SIZE) {
        // A crash while creating the file: nothing in it was ever acknowledged.
        closeSync(fd);
        fd = -1;
        unlinkSync(file);
        return undefined;
      }
      const header = Buffer.alloc(FILE_HEADER_SIZE);
      readSync(fd, header, 0, FILE_HEADER_SIZE, 0);
      const { encrypted } = parseFileHeader(header);
      const tailSize = Math.min(size - FILE_HEADER_SIZE, META_FRAME_SIZE);
      const tail = Buffer.alloc(tailSize);
      readSync(fd, tail, 0, tailSize, size - tailSize);
      const meta = metaFromTail(tail);
      if (meta) return { ...meta, encrypted };
      const whole = Buffer.alloc(size);
      readSync(fd, whole, 0, size, 0);
      const { frames, validEnd } = scanFrames(whole);
      this.logger?.warn?.('archive: dropping a torn tail', { file, droppedBytes: whole.byteLength - validEnd });
      ftruncateSync(fd, validEnd);
      const recovered = metaFromFrames(frames, this.nowSeconds());
      if (!recovered) return undefined;
      // Re-seal the metadata so the next reader finds it at the end again.
      const sealed = frame(metaPayload(recovered));
      writeSync(fd, sealed, 0, sealed.byteLength, validEnd);
      return { ...recovered, encrypted };
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  private async readFileState(file: string): Promise<LoadedFile | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArchiveError('IO_ERROR', `cannot read ${file}`, { cause: error });
    }
    if (bytes.byteLength < FILE_HEADER_SIZE) return undefined;
    const { encrypted } = parseFileHeader(bytes);
    if (encrypted && !this.key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
    const { frames, validEnd } = scanFrames(bytes);
    const turns: ArchivedTurn[] = [];
    let lastSeq = 0;
    for (const scanned of frames) {
      if (scanned.kind === FrameKind.Meta) continue;
      for (const turn of this.decodeFrame(scanned.payload, encrypted)) {
        // Seqs only grow in a file; anything else would be a duplicate from a crash mid-compaction.
        if (turn.seq <= lastSeq) continue;
        turns.push(turn);
        lastSeq = turn.seq;
      }
    }
    const meta = metaFromFrames(frames, this.nowSeconds()) ?? emptyMeta(this.nowSeconds());
    return { meta: { ...meta, turnCount: turns.length, lastSeq }, turns, frames, encrypted, intact: validEnd === bytes.byteLength };
  }

  private decodeFrame(payload: Buffer, encrypted: boolean): ArchivedTurn[] {
    const head = parseTurnsHead(payload);
    const codec = codecFromId(head.codec);
    let body: Uint8Array = payload.subarray(TURNS_HEAD_SIZE);
    if (encrypted) {
      if (!this.key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
      body = unseal(this.key, body, payload.subarray(0, TURNS_HEAD_SIZE));
    }
    return decodeTurns(decompress(codec, body, head.rawLength), head.count);
  }

  /** Rewrites the tail into a block via a temporary file and an atomic rename. */
  private async compactLocked(file: string): Promise<void> {
    const loaded = await this.readFileState(file);
    if (!loaded) return;
    if (!loaded.intact) {
      // Damage inside the file (not a torn tail, which the writer already cut): rewriting
      // from the readable prefix would drop the intact records after it, so leave it be.
      this.logger?.warn?.('archive: not compacting a file with a damaged frame', { file });
      return;
    }
    const blocks = loaded.frames.filter((f) => f.kind === FrameKind.Block);
    const keep: Buffer[] = [];
    let merged: ArchivedTurn[] = [];
    const lastBlock = blocks[blocks.length - 1];
    for (const block of blocks) {
      const head = parseTurnsHead(block.payload);
      if (block === lastBlock && head.rawLength < MAX_BLOCK_RAW) {
        merged = this.decodeFrame(block.payload, loaded.encrypted);
      } else {
        keep.push(frameBytes(block));
      }
    }
    const mergedLast = merged.length > 0 ? merged[merged.length - 1]!.seq : keep.length > 0 ? parseTurnsHead(blocks[keep.length - 1]!.payload).lastSeq : 0;
    for (const turn of loaded.turns) if (turn.seq > mergedLast) merged.push(turn);
    const parts: Uint8Array[] = [fileHeader(loaded.encrypted), ...keep];
    if (merged.length > 0) parts.push(this.turnsFrame(FrameKind.Block, merged, encodeTurns(merged)));
    parts.push(frame(metaPayload({ ...loaded.meta, tailRawBytes: 0, tailFrames: 0 })));
    const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.write(Buffer.concat(parts));
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new ArchiveError('IO_ERROR', `cannot compact ${file}`, { cause: error });
    }
  }

  /** Compacts a session's appended tail into a compressed block now (normally automatic). */
  async compact(sessionId: string): Promise<void> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    await this.locks.withLock(paths.lock, () => this.compactLocked(paths.file));
  }

  /** Every stored turn, oldest first; `[]` for an unknown session. */
  async loadAll(sessionId: string): Promise<ArchivedTurn[]> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    const loaded = await this.readFileState(paths.file);
    if (loaded) return loaded.turns;
    if (paths.legacy) {
      const legacy = await readFile(paths.legacy).catch(() => undefined);
      if (legacy) return readLegacyTurns(legacy).turns;
    }
    return [];
  }

  /** The last `n` turns, oldest first. */
  async loadRecent(sessionId: string, n: number): Promise<ArchivedTurn[]> {
    this.checkOpen();
    checkCount('n', n);
    const all = await this.loadAll(sessionId);
    return n === 0 ? [] : all.slice(-n);
  }

  /** Turns with `seq > afterSeq`, oldest first, at most `limit` of them. */
  async loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]> {
    this.checkOpen();
    checkCount('afterSeq', afterSeq);
    if (limit !== undefined) checkCount('limit', limit);
    const after = (await this.loadAll(sessionId)).filter((turn) => turn.seq > afterSeq);
    return limit === undefined ? after : after.slice(0, limit);
  }

  /** Turns ranked by BM25 against `query` (better than the original's token overlap). */
  async searchByText(sessionId: string, query: string, topK = 5): Promise<ScoredTurn[]> {
    this.checkOpen();
    if (typeof query !== 'string') throw new ArchiveError('INVALID_ARGUMENT', 'query must be a string');
    checkTopK(topK);
    return rankByBm25(await this.loadAll(sessionId), query, topK);
  }

  /** Turns ranked by cosine similarity of their embeddings to `vector`. */
  async searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK = 5): Promise<ScoredTurn[]> {
    this.checkOpen();
    checkTopK(topK);
    const query = toQueryVector(vector);
    return rankByCosine(await this.loadAll(sessionId), query, topK);
  }

  /** Removes the session's files; `true` when something was removed. */
  async deleteSession(sessionId: string): Promise<boolean> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    return this.locks.withLock(paths.lock, async () => {
      let removed = false;
      for (const path of [paths.file, paths.legacy]) {
        if (!path) continue;
        try {
          await unlink(path);
          removed = true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ArchiveError('IO_ERROR', `cannot delete ${path}`, { cause: error });
        }
      }
      return removed;
    });
  }

  async sessionExists(sessionId: string): Promise<boolean> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    return (await exists(paths.file)) || (paths.legacy !== undefined && (await exists(paths.legacy)));
  }

  /** Created/updated times, turn count, size and last seq, read from the file's last bytes. */
  async getMetadata(sessionId: string): Promise<SessionMetadata | null> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    const meta = await this.metadataOf(paths.file, sessionId);
    if (meta) return meta;
    if (paths.legacy) return this.legacyMetadata(paths.legacy, sessionId);
    return null;
  }

  private async metadataOf(file: string, sessionId: string): Promise<SessionMetadata | null> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ArchiveError('IO_ERROR', `cannot open ${file}`, { cause: error });
    }
    try {
      const size = (await handle.stat()).size;
      if (size < FILE_HEADER_SIZE + META_FRAME_SIZE) return null;
      const tail = Buffer.alloc(META_FRAME_SIZE);
      await handle.read(tail, 0, META_FRAME_SIZE, size - META_FRAME_SIZE);
      let meta = metaFromTail(tail);
      if (!meta) {
        // Torn tail (a writer died mid-append): fall back to a scan of the intact frames.
        meta = metaFromFrames(scanFrames(await handle.readFile()).frames, this.nowSeconds());
      }
      if (!meta) return null;
      return { sessionId, createdAt: meta.createdAt, updatedAt: meta.updatedAt, turnCount: meta.turnCount, sizeBytes: size, lastSeq: meta.lastSeq, format: 'lix' };
    } finally {
      await handle.close();
    }
  }

  private async legacyMetadata(path: string, sessionId: string): Promise<SessionMetadata | null> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return null;
    }
    try {
      const head = Buffer.alloc(24);
      const { bytesRead } = await handle.read(head, 0, 24, 0);
      const header = parseLegacyHeader(head.subarray(0, bytesRead));
      const size = (await handle.stat()).size;
      return { sessionId, createdAt: header.createdAt, updatedAt: header.updatedAt, turnCount: header.turnCount, sizeBytes: size, lastSeq: header.turnCount, format: 'legacy-huff' };
    } finally {
      await handle.close();
    }
  }

  /** Rewrites a legacy `.huff` session in this format (same turns, created/updated kept). */
  async migrateLegacy(sessionId: string): Promise<boolean> {
    this.checkOpen();
    const paths = this.paths(sessionId);
    if (!paths.legacy) return false;
    const legacy = paths.legacy;
    return this.locks.withLock(paths.lock, async () => {
      if ((await exists(paths.file)) || !(await exists(legacy))) return false;
      await this.migrateLocked(sessionId, paths.file, legacy);
      return true;
    });
  }

  private async migrateLocked(sessionId: string, file: string, legacyPath: string): Promise<void> {
    const { header, turns } = readLegacyTurns(await readFile(legacyPath));
    const parts: Uint8Array[] = [fileHeader(this.key !== undefined)];
    if (turns.length > 0) parts.push(this.turnsFrame(FrameKind.Block, turns, encodeTurns(turns)));
    parts.push(frame(metaPayload({ createdAt: header.createdAt, updatedAt: header.updatedAt, turnCount: turns.length, lastSeq: turns.length, tailRawBytes: 0, tailFrames: 0 })));
    const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const handle = await open(temp, 'w');
    try {
      await handle.write(Buffer.concat(parts));
      await handle.sync();
    } finally {
      await handle.close();
    }
    // The new file is complete before the old one goes: a crash in between leaves both, and the new one wins.
    await rename(temp, file);
    await unlink(legacyPath);
    this.logger?.info?.('archive: migrated legacy session', { sessionId, turns: turns.length });
  }

  /** Streams the metadata of every session in the folder, one file at a time. */
  async *listSessions(): AsyncIterable<SessionMetadata> {
    this.checkOpen();
    const dir = await opendir(this.dir);
    for await (const entry of dir) {
      if (!entry.isFile()) continue;
      if (entry.name.endsWith('.lix')) {
        const sessionId = sessionIdFromStem(entry.name.slice(0, -4));
        if (sessionId === undefined) continue;
        const meta = await this.metadataOf(join(this.dir, entry.name), sessionId).catch(() => null);
        if (meta) yield meta;
      } else if (entry.name.endsWith('.huff')) {
        const sessionId = entry.name.slice(0, -5);
        if (legacyFileName(sessionId) !== entry.name) continue;
        if (await exists(join(this.dir, `${sessionFileStem(sessionId)}.lix`))) continue;
        const meta = await this.legacyMetadata(join(this.dir, entry.name), sessionId).catch(() => null);
        if (meta) yield meta;
      }
    }
  }

  /** Deletes sessions not updated within `ttlDays`; resolves with how many were removed. */
  async cleanupExpired(): Promise<number> {
    this.checkOpen();
    const cutoff = this.nowSeconds() - this.ttlDays * 86_400;
    const expired: string[] = [];
    for await (const meta of this.listSessions()) if (meta.updatedAt < cutoff) expired.push(meta.sessionId);
    let removed = 0;
    for (const sessionId of expired) if (await this.deleteSession(sessionId)) removed++;
    return removed;
  }

  /** Marks the archive closed; later calls reject with `CLOSED`. Holds no open handles. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

function frameBytes(scanned: ScannedFrame): Buffer {
  // Re-framing the verified payload gives the same bytes without pinning the file buffer.
  return frame(Buffer.from(scanned.payload));
}

function metaFromFrames(frames: ScannedFrame[], now: number): SessionMeta | undefined {
  let meta: SessionMeta | undefined;
  let turnCount = 0;
  let lastSeq = 0;
  for (const scanned of frames) {
    if (scanned.kind === FrameKind.Meta) {
      meta = parseMetaPayload(scanned.payload);
    } else {
      const head = parseTurnsHead(scanned.payload);
      if (head.lastSeq > lastSeq) {
        turnCount += head.count;
        lastSeq = head.lastSeq;
      }
    }
  }
  if (!meta && turnCount === 0) return undefined;
  return {
    createdAt: meta?.createdAt ?? now,
    updatedAt: meta?.updatedAt ?? now,
    turnCount,
    lastSeq,
    tailRawBytes: meta?.tailRawBytes ?? 0,
    tailFrames: meta?.tailFrames ?? 0,
  };
}

function emptyMeta(now: number): SessionMeta {
  return { createdAt: now, updatedAt: now, turnCount: 0, lastSeq: 0, tailRawBytes: 0, tailFrames: 0 };
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
}

function checkTopK(topK: unknown): void {
  checkCount('topK', topK);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

