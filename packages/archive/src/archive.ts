import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { open, opendir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { turnsFrame, type BlockCodec } from './block-codec.js';
import { codecIds, type ArchiveCodec } from './codecs.js';
import { IDLE_MERGE_RATIO, MAX_BLOCK_RAW, compactTail, readExactly, writeAt, type OpenSession } from './compaction.js';
import { readAppendOptions, throwIfAborted } from './abort.js';
import { ArchiveError } from './errors.js';
import {
  FILE_HEADER_SIZE,
  FrameKind,
  META_FRAME_SIZE,
  fileHeader,
  frame,
  frameAt,
  frameEndingAt,
  metaPayload,
  parseFileHeader,
  parseSessionPayload,
  parseTurnsHead,
  sessionPayload,
  type DamagedRange,
  type SessionMeta,
} from './frame.js';
import { V1_META_FRAME, v1MetaFromTail } from './frame-v1.js';
import { parseLegacyHeader, readLegacyTurns } from './legacy.js';
import { checkKey } from './sealing.js';
import { isHashedStem, legacyFileName, sessionFileStem, sessionIdFromStem } from './session-file-name.js';
import { SessionLocks, type LeaseCache, type LeaseHandle } from './session-lock.js';
import { readMetaAtEnd, readNewest, readNewestStart, readStoredId, readWhole, type WholeRead } from './session-reader.js';
import type { AppendOptions, AppendResult, ArchiveStore, SessionMetadata } from './store.js';
import { rankByBm25, rankByCosine, type ScoredTurn } from './text-search.js';
import { normalizeTurn, type ArchivedTurn, type ArchiveTurnInput } from './turn-records.js';
import { checkCount, isPlainObject, snapshotOptions, toQueryVector, toTurnArray } from './validate.js';
import { describeValue } from './session-id.js';

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
  /** Appended raw bytes after which the tail is compacted into a block, on the next tick (default 8 KiB). An idle session compacts its tail whatever its size. */
  compactAfterBytes?: number;
  /** Appended batches after which the tail is compacted into a block, on the next tick (default 16, chosen by the benchmark). */
  compactAfterAppends?: number;
  /** How long a writer waits for another writer's lock on the same session (default 10 s). */
  lockTimeoutMs?: number;
  /**
   * A lock whose lease was not renewed for this long is taken over (default 3 s): how long a
   * writer killed while holding the lock can block its session. Keep it above the longest
   * pause (GC, swap) a live writer may have, and below `lockTimeoutMs`.
   */
  lockStaleMs?: number;
  logger?: ArchiveLogger;
  /** Time source in milliseconds (default `Date.now`); gives `createdAt`, `updatedAt` and default timestamps. */
  clock?: { now(): number };
}

/** Lock folders live apart from the session files, so a listing of the archive shows sessions only. */
export const LOCK_FOLDER = '.lix-locks';

/** A tail this many times over its compaction limit is compacted inside the append. */
const OVERDUE_FACTOR = 4;

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

/** What `verifySession` found in one session's file. */
export interface SessionVerifyReport {
  sessionId: string;
  /** `'lix'` (with its format version), `'legacy-huff'`, or `'missing'`. */
  format: string;
  formatVersion: number | undefined;
  /** Turns readable now. */
  readableTurns: number;
  /** Turns the metadata counts (acknowledged); more than `readableTurns` when damage cost some. */
  acknowledgedTurns: number;
  /** Byte ranges skipped because they hold no valid frame. */
  damaged: DamagedRange[];
  /** A cut-short last append (not acknowledged; removed by the next append). */
  tornTail: DamagedRange | undefined;
  ok: boolean;
}

interface SessionCache extends LeaseCache {
  session: OpenSession;
}

interface Paths {
  file: string;
  lock: string;
  legacy: string | undefined;
  hashed: boolean;
}

function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
    throw new ArchiveError('INVALID_ARGUMENT', `${name} must be a positive finite number`);
  return value;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ArchiveError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return value;
}

/**
 * The file store: one append-only, checksummed file per session. Appends cost the same at
 * turn 10 and turn 10,000; a crash, a killed writer or a damaged byte never costs an
 * acknowledged turn beyond the damaged frame; writers in other processes, containers or
 * hosts sharing the folder are serialised by a lease lock; legacy `.huff` files from the
 * Python original and format-1 files load transparently.
 */
export class ConversationArchive implements ArchiveStore {
  readonly dir: string;
  readonly #ttlDays: number;
  readonly #codec: BlockCodec;
  readonly #key: Uint8Array | undefined;
  readonly #fsync: boolean;
  readonly #compactAfterBytes: number;
  readonly #compactAfterAppends: number;
  readonly #locks: SessionLocks;
  readonly #logger: ArchiveLogger | undefined;
  readonly #clock: { now(): number };
  #closed = false;
  /** Lock folders with a compaction scheduled for the next tick. */
  readonly #pendingCompactions = new Set<string>();

  constructor(input: ConversationArchiveOptions) {
    const options = snapshotOptions<ConversationArchiveOptions>('ConversationArchive', input, OPTION_KEYS);
    if (typeof options.dir !== 'string' || options.dir === '') {
      throw new ArchiveError('INVALID_ARGUMENT', 'ConversationArchive needs options.dir, the archive folder');
    }
    const codec = options.codec ?? 'brotli';
    if (typeof codec !== 'string' || !Object.hasOwn(codecIds, codec))
      throw new ArchiveError(
        'INVALID_ARGUMENT',
        `unknown codec ${typeof codec === 'string' ? JSON.stringify(codec.slice(0, 64)) : describeValue(codec)}; use brotli, deflate, huffman or none`,
      );
    if (options.fsync !== undefined && typeof options.fsync !== 'boolean') throw new ArchiveError('INVALID_ARGUMENT', 'fsync must be a boolean');
    if (options.logger !== undefined && !(isPlainObject(options.logger) || typeof options.logger === 'object'))
      throw new ArchiveError('INVALID_ARGUMENT', 'logger must be an object');
    const clock = options.clock;
    if (clock !== undefined) {
      let now: unknown;
      try {
        now = clock === null || typeof clock !== 'object' ? undefined : clock.now;
      } catch (error) {
        throw new ArchiveError('INVALID_ARGUMENT', 'clock.now cannot be read (a getter or Proxy trap threw)', { cause: error });
      }
      if (typeof now !== 'function') throw new ArchiveError('INVALID_ARGUMENT', 'clock must have a now() method');
    }
    this.dir = options.dir;
    this.#ttlDays = positiveNumber('ttlDays', options.ttlDays, 14);
    this.#key = checkKey(options.encryptionKey);
    this.#codec = { codec, key: this.#key };
    this.#fsync = options.fsync ?? false;
    this.#compactAfterBytes = positiveInteger('compactAfterBytes', options.compactAfterBytes, 8 * 1024);
    this.#compactAfterAppends = positiveInteger('compactAfterAppends', options.compactAfterAppends, 16);
    const lockTimeoutMs = positiveNumber('lockTimeoutMs', options.lockTimeoutMs, 10_000);
    const lockStaleMs = positiveNumber('lockStaleMs', options.lockStaleMs, 3_000);
    this.#logger = options.logger;
    this.#locks = new SessionLocks(lockTimeoutMs, lockStaleMs, (error, lockDir) =>
      this.#warn('archive: idle compaction failed; the turns stay in the tail', { lock: lockDir, error: String(error) }),
    );
    this.#clock = clock ?? { now: () => Date.now() };
    try {
      mkdirSync(join(this.dir, LOCK_FOLDER), { recursive: true });
    } catch (error) {
      throw new ArchiveError('IO_ERROR', `cannot create the archive folder ${this.dir}`, { cause: error });
    }
  }

  /** A logger that throws must not turn background work into an unhandled error. */
  #warn(message: string, context: Record<string, unknown>): void {
    try {
      this.#logger?.warn?.(message, context);
    } catch {
      // the logger's own failure has nowhere to go
    }
  }

  #paths(sessionId: unknown): Paths {
    const stem = sessionFileStem(sessionId);
    const legacy = legacyFileName(sessionId as string);
    return {
      file: join(this.dir, `${stem}.lix`),
      lock: join(this.dir, LOCK_FOLDER, stem),
      legacy: legacy ? join(this.dir, legacy) : undefined,
      hashed: isHashedStem(stem),
    };
  }

  #checkOpen(): void {
    if (this.#closed) throw new ArchiveError('CLOSED', 'the archive was closed');
  }

  #nowSeconds(): number {
    return this.#clock.now() / 1000;
  }

  /** Appends one turn; see {@link appendTurns}. */
  async appendTurn(sessionId: string, turn: ArchiveTurnInput, options?: AppendOptions): Promise<AppendResult> {
    this.#checkOpen();
    return this.appendTurns(sessionId, [turn], options);
  }

  /**
   * Appends turns atomically with respect to every other writer of the session, in any
   * process or host. Per turn: without `seq` it gets lastSeq + 1; with `seq` ≤ lastSeq it is
   * skipped (already stored, so retries are idempotent); with a larger `seq` it is stored
   * and becomes lastSeq. Resolves once the bytes are written (and fsynced with `fsync`).
   *
   * `options.signal` is observed until the call holds the session's lock: aborted already,
   * or aborted while the call waits for this archive's earlier appends to the session or for
   * a writer of another archive, process or host to release its lease, the call rejects with
   * `ABORTED` at once (arguments are checked first), stores nothing, and leaves no waiter's
   * mark or timer behind; the holder is not disturbed. Once the lock is held the write
   * runs to its end and the call resolves as usual.
   */
  async appendTurns(sessionId: string, input: Iterable<ArchiveTurnInput>, options?: AppendOptions): Promise<AppendResult> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    const turns = toTurnArray<ArchiveTurnInput>(input);
    const now = this.#nowSeconds();
    for (const turn of turns) normalizeTurn(turn, 1, now);
    const signal = readAppendOptions('appendTurns', options);
    throwIfAborted(signal);
    return this.#locks.withLockUnlessAborted(paths.lock, signal, async (lease) => {
      const kept = (lease.cache as SessionCache | undefined)?.session.file === paths.file;
      if (!kept && paths.legacy && !existsSync(paths.file) && existsSync(paths.legacy)) await this.#migrateLegacyLocked(sessionId, paths, paths.legacy);
      let current = this.#sessionOf(lease, sessionId, paths);
      let lastSeq = current?.meta.lastSeq ?? 0;
      const seqs: number[] = [];
      const fresh: ArchivedTurn[] = [];
      for (const turn of turns) {
        const wanted = turn.seq ?? lastSeq + 1;
        seqs.push(wanted);
        if (wanted <= lastSeq) continue;
        fresh.push(normalizeTurn(turn, wanted, now));
        lastSeq = wanted;
      }
      if (fresh.length === 0) return { appended: 0, skipped: turns.length, lastSeq, seqs };
      current ??= this.#keep(lease, this.#createSession(sessionId, paths.file, now));
      // A small TURNS frame lives only until the next compaction (a few appends): compressing it
      // would cost more CPU than the bytes it saves for that short while.
      const turnsBytes = turnsFrame(FrameKind.Turns, fresh, this.#codec, current.encrypted, this.#compactAfterBytes);
      const rawBytes = parseTurnsHead(turnsBytes.subarray(12)).rawLength;
      const meta: SessionMeta = {
        createdAt: current.meta.createdAt,
        updatedAt: now,
        turnCount: current.meta.turnCount + fresh.length,
        lastSeq,
        tailStart: current.meta.tailFrames === 0 ? current.size : current.meta.tailStart,
        tailRawBytes: current.meta.tailRawBytes + rawBytes,
        tailFrames: current.meta.tailFrames + 1,
      };
      const bytes = Buffer.concat([turnsBytes, frame(metaPayload(meta))]);
      try {
        lease.assertHeld();
        // One write under the lock: a crash tears at most this append, which was not yet acknowledged.
        writeAt(current.fd, bytes, current.size);
        if (this.#fsync) fsyncSync(current.fd);
      } catch (error) {
        if (error instanceof ArchiveError) throw error;
        throw new ArchiveError('IO_ERROR', `cannot append to ${paths.file}`, { cause: error });
      }
      current = { ...current, size: current.size + bytes.byteLength, meta };
      const due = meta.tailRawBytes >= this.#compactAfterBytes || meta.tailFrames >= this.#compactAfterAppends;
      // The compaction runs after the acknowledgement (next tick, or when the lease goes idle);
      // only a tail that grew far past its limit, because the event loop never got a turn, is
      // compacted here, so the tail stays bounded.
      if (due && (meta.tailRawBytes >= OVERDUE_FACTOR * this.#compactAfterBytes || meta.tailFrames >= OVERDUE_FACTOR * this.#compactAfterAppends)) {
        current = this.#compactOpen(current, lease);
      }
      this.#keep(lease, current);
      if (due && current.meta.tailFrames > 0) this.#scheduleCompaction(sessionId, paths);
      return { appended: fresh.length, skipped: turns.length - fresh.length, lastSeq, seqs };
    });
  }

  /**
   * Compacts the session's tail on the next tick, under its lock, while this process still
   * keeps the lease (a released lease compacted its tail on the way out).
   */
  #scheduleCompaction(sessionId: string, paths: Paths): void {
    if (this.#pendingCompactions.has(paths.lock)) return;
    this.#pendingCompactions.add(paths.lock);
    setImmediate(() => {
      if (this.#closed || !this.#locks.isKept(paths.lock)) {
        this.#pendingCompactions.delete(paths.lock);
        return;
      }
      this.#locks
        .withLock(paths.lock, async (lease) => {
          this.#pendingCompactions.delete(paths.lock);
          const cached = lease.cache as SessionCache | undefined;
          if (this.#closed || cached?.session.file !== paths.file || cached.session.meta.tailFrames === 0) return;
          this.#keep(lease, this.#compactOpen(cached.session, lease));
        })
        .catch((error: unknown) => {
          this.#pendingCompactions.delete(paths.lock);
          this.#warn('archive: deferred compaction failed; the turns stay in the tail', { sessionId, error: String(error) });
        });
    }).unref();
  }

  /**
   * The open session file kept with the lease: while a writer holds the lock nobody else
   * changes the file, so its size and metadata stay valid until the lease ends.
   */
  #sessionOf(lease: LeaseHandle, sessionId: string, paths: Paths): OpenSession | undefined {
    const cached = lease.cache as SessionCache | undefined;
    if (cached?.session.file === paths.file) return cached.session;
    return this.#keep(lease, this.#openForWrite(sessionId, paths, lease));
  }

  #keep<T extends OpenSession | undefined>(lease: LeaseHandle, session: T): T {
    const cached = lease.cache as SessionCache | undefined;
    if (cached && (!session || cached.session.fd !== session.fd)) {
      lease.cache = undefined;
      cached.dispose();
    }
    if (!session) return session;
    if (lease.cache) {
      (lease.cache as SessionCache).session = session;
      return session;
    }
    const entry: SessionCache = {
      session,
      dispose: () => closeSync(entry.session.fd),
      // A lease kept idle for a second ends by taking the tail into a block: the conversation has
      // paused, and one block compresses far better than a tail and several small blocks.
      beforeIdleRelease: () => {
        if (!this.#closed && entry.session.meta.tailFrames > 0) entry.session = this.#compactOpen(entry.session, lease, IDLE_MERGE_RATIO);
      },
    };
    lease.cache = entry;
    return session;
  }

  /** Compacts a session's appended tail into a block now (normally automatic). */
  async compact(sessionId: string): Promise<void> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    await this.#locks.withLock(paths.lock, async (lease) => {
      const session = this.#sessionOf(lease, sessionId, paths);
      if (session) this.#keep(lease, this.#compactOpen(session, lease));
    });
  }

  #compactOpen(session: OpenSession, lease: LeaseHandle, mergeRatio?: number): OpenSession {
    return compactTail(session, {
      codec: this.#codec,
      fsync: this.#fsync,
      lease,
      mergeRatio,
      onDamage: (ranges) =>
        this.#logger?.warn?.('archive: compaction skipped damaged bytes (their turns were already unreadable)', { file: session.file, ranges }),
    });
  }

  /** Opens the session file for a writer (who holds the lock): repairs a torn end, upgrades format 1. */
  #openForWrite(sessionId: string, paths: Paths, lease: LeaseHandle): OpenSession | undefined {
    let fd: number;
    try {
      fd = openSync(paths.file, 'r+');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArchiveError('IO_ERROR', `cannot open ${paths.file}`, { cause: error });
    }
    try {
      const size = fstatSync(fd).size;
      if (size < FILE_HEADER_SIZE) {
        // A crash while creating the file: nothing in it was ever acknowledged.
        closeSync(fd);
        unlinkSync(paths.file);
        return undefined;
      }
      const header = parseFileHeader(readExactly(fd, 0, FILE_HEADER_SIZE));
      if (header.encrypted && !this.#key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
      if (header.version === 1) {
        closeSync(fd);
        this.#upgradeV1Locked(sessionId, paths.file, lease);
        return this.#openForWrite(sessionId, paths, lease);
      }
      if (paths.hashed) this.#checkStoredId(sessionId, paths.file, readExactly(fd, 0, Math.min(size, 4096)));
      const tailLength = Math.min(size, META_FRAME_SIZE);
      const end = frameEndingAt(readExactly(fd, size - tailLength, tailLength), size, size - tailLength);
      if (end?.kind === FrameKind.Meta) {
        const meta = { ...parseMeta(end.payload) };
        if (meta.tailStart <= size) return { fd, file: paths.file, size, meta, encrypted: header.encrypted };
      }
      return this.#repairLocked(fd, paths.file, size, header.encrypted);
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      throw error;
    }
  }

  /** The end of the file is not a META frame: cut what follows the last valid frame and seal the metadata again. */
  #repairLocked(fd: number, file: string, size: number, encrypted: boolean): OpenSession {
    const read = readWhole(readExactly(fd, 0, size), this.#key);
    if (read.damaged.length > 0) this.#logger?.warn?.('archive: skipped damaged bytes in a session file', { file, ranges: read.damaged });
    const validEnd = read.tornTail ? read.tornTail.start : size;
    if (read.tornTail) this.#logger?.warn?.('archive: dropping a torn last append (never acknowledged)', { file, droppedBytes: size - validEnd });
    // The tail restarts after the last block, so turns appended since are compacted again.
    let tailStart = validEnd;
    let tailFrames = 0;
    let tailRawBytes = 0;
    for (let i = read.frames.length - 1; i >= 0; i--) {
      const found = read.frames[i]!;
      if (found.kind === FrameKind.Block || found.kind === FrameKind.Session) break;
      if (found.kind === FrameKind.Turns) {
        tailStart = found.offset;
        tailFrames++;
        tailRawBytes += parseTurnsHead(found.payload).rawLength;
      }
    }
    const now = this.#nowSeconds();
    const last = read.turns[read.turns.length - 1];
    const meta: SessionMeta = {
      createdAt: read.meta?.createdAt ?? now,
      updatedAt: read.meta?.updatedAt ?? now,
      turnCount: read.turns.length,
      lastSeq: Math.max(last?.seq ?? 0, read.meta?.lastSeq ?? 0),
      tailStart,
      tailRawBytes,
      tailFrames,
    };
    try {
      ftruncateSync(fd, validEnd);
      const sealed = frame(metaPayload(meta));
      writeAt(fd, sealed, validEnd);
      if (this.#fsync) fsyncSync(fd);
      return { fd, file, size: validEnd + sealed.byteLength, meta, encrypted };
    } catch (error) {
      throw new ArchiveError('IO_ERROR', `cannot repair ${file}`, { cause: error });
    }
  }

  #createSession(sessionId: string, file: string, now: number): OpenSession {
    const encrypted = this.#key !== undefined;
    const start = Buffer.concat(fileStart(sessionId, file, encrypted, now));
    let fd: number;
    try {
      fd = openSync(file, 'wx+');
      writeAt(fd, start, 0);
    } catch (error) {
      throw new ArchiveError('IO_ERROR', `cannot create ${file}`, { cause: error });
    }
    return {
      fd,
      file,
      size: start.byteLength,
      meta: { createdAt: now, updatedAt: now, turnCount: 0, lastSeq: 0, tailStart: start.byteLength, tailRawBytes: 0, tailFrames: 0 },
      encrypted,
    };
  }

  #checkStoredId(sessionId: string, file: string, head: Buffer): void {
    const found = frameAt(head, FILE_HEADER_SIZE);
    const storedId = found?.kind === FrameKind.Session ? parseSessionPayload(found.payload).sessionId : undefined;
    if (storedId !== undefined && storedId !== sessionId) {
      throw new ArchiveError('CORRUPT_FILE', `${file} holds another session than the one asked for (hash collision or a renamed file)`);
    }
  }

  /** Rewrites a format-1 file as format 2 (once; via a temporary file and an atomic rename). */
  #upgradeV1Locked(sessionId: string, file: string, lease: LeaseHandle): void {
    const read = readWhole(readFileSyncSafe(file), this.#key);
    if (read.damaged.length > 0) this.#logger?.warn?.('archive: skipped damaged bytes while upgrading a format-1 file', { file, ranges: read.damaged });
    const now = this.#nowSeconds();
    const createdAt = read.v1Meta?.createdAt ?? now;
    const meta = { createdAt, updatedAt: read.v1Meta?.updatedAt ?? now, turnCount: read.turns.length, lastSeq: read.turns[read.turns.length - 1]?.seq ?? 0 };
    lease.assertHeld();
    this.#writeFreshFile(sessionId, file, read.turns, meta, read.encrypted);
    this.#logger?.info?.('archive: upgraded a session file to format 2', { file, turns: read.turns.length });
  }

  #writeFreshFile(
    sessionId: string,
    file: string,
    turns: ArchivedTurn[],
    meta: Pick<SessionMeta, 'createdAt' | 'updatedAt' | 'turnCount' | 'lastSeq'>,
    encrypted: boolean,
  ): void {
    const parts: Buffer[] = fileStart(sessionId, file, encrypted, meta.createdAt);
    let chunk: ArchivedTurn[] = [];
    let chunkBytes = 0;
    const flush = () => {
      if (chunk.length > 0) parts.push(turnsFrame(FrameKind.Block, chunk, this.#codec, encrypted));
      chunk = [];
      chunkBytes = 0;
    };
    for (const turn of turns) {
      chunk.push(turn);
      chunkBytes += turn.content.length + 64;
      if (chunkBytes >= MAX_BLOCK_RAW) flush();
    }
    flush();
    const size = parts.reduce((sum, part) => sum + part.byteLength, 0);
    parts.push(frame(metaPayload({ ...meta, tailStart: size + META_FRAME_SIZE, tailRawBytes: 0, tailFrames: 0 })));
    const temp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    let fd: number | undefined;
    try {
      fd = openSync(temp, 'w');
      writeAt(fd, Buffer.concat(parts), 0);
      fsyncSync(fd);
      closeSync(fd);
      fd = undefined;
      renameSync(temp, file);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw new ArchiveError('IO_ERROR', `cannot write ${file}`, { cause: error });
    }
  }

  /** Full read of a session file; `undefined` when it does not exist. Retries once when the file changed under the read. */
  async #readSessionFile(sessionId: string, paths: Paths): Promise<WholeRead | undefined> {
    for (let attempt = 0; ; attempt++) {
      let bytes: Buffer;
      let before: { size: number; mtimeMs: number };
      try {
        before = await stat(paths.file);
        bytes = await readFile(paths.file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ArchiveError('IO_ERROR', `cannot read ${paths.file}`, { cause: error });
      }
      if (bytes.byteLength < FILE_HEADER_SIZE) return undefined;
      const read = readWhole(bytes, this.#key);
      if (paths.hashed && read.storedId !== undefined && read.storedId !== sessionId) {
        throw new ArchiveError('CORRUPT_FILE', `${paths.file} holds another session than the one asked for`);
      }
      if (read.damaged.length === 0) return read;
      // A compaction may have moved bytes while we read: read again before calling it damage.
      const after = await stat(paths.file).catch(() => undefined);
      if (attempt < 2 && (after?.size !== before.size || after.mtimeMs !== before.mtimeMs || bytes.byteLength !== before.size)) continue;
      this.#logger?.warn?.('archive: skipped damaged bytes in a session file; the turns in them are lost, all others are returned', {
        file: paths.file,
        ranges: read.damaged,
      });
      return read;
    }
  }

  /** Every stored turn, oldest first; `[]` for an unknown session. */
  async loadAll(sessionId: string): Promise<ArchivedTurn[]> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    const read = await this.#readSessionFile(sessionId, paths);
    if (read) return read.turns;
    if (paths.legacy) {
      const legacy = await readFile(paths.legacy).catch(() => undefined);
      if (legacy) return readLegacyTurns(legacy).turns;
    }
    return [];
  }

  /** Reads from the end of the file backwards until `enough`; falls back to a full read. */
  async #readFromEnd(sessionId: string, paths: Paths, enough: (collected: number, frameFirstSeq: number) => boolean): Promise<ArchivedTurn[] | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(paths.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ArchiveError('IO_ERROR', `cannot open ${paths.file}`, { cause: error });
    }
    try {
      const size = (await handle.stat()).size;
      if (size < FILE_HEADER_SIZE) return undefined;
      const headerBytes = Buffer.alloc(FILE_HEADER_SIZE);
      // Both reads at once: one round trip to the thread pool instead of two.
      const first = readNewestStart(handle, size);
      first.catch(() => undefined); // awaited below, or abandoned when the header says no
      await handle.read(headerBytes, 0, FILE_HEADER_SIZE, 0);
      const header = parseFileHeader(headerBytes);
      if (header.encrypted && !this.#key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
      if (header.version !== 2) {
        await first.catch(() => undefined);
        return undefined;
      }
      if (paths.hashed) {
        const stored = await readStoredId(handle, size);
        if (stored !== undefined && stored !== sessionId) throw new ArchiveError('CORRUPT_FILE', `${paths.file} holds another session than the one asked for`);
      }
      return await readNewest(handle, size, header.encrypted, this.#key, enough, first);
    } finally {
      await handle.close();
    }
  }

  /** The last `count` turns, oldest first, read from the end of the file: O(count). */
  async loadRecent(sessionId: string, count: number): Promise<ArchivedTurn[]> {
    this.#checkOpen();
    checkCount('count', count);
    const paths = this.#paths(sessionId);
    if (count === 0) return [];
    const recent = await this.#readFromEnd(sessionId, paths, (collected) => collected >= count);
    if (recent) return recent.slice(-count);
    return (await this.loadAll(sessionId)).slice(-count);
  }

  /** Turns with `seq > afterSeq`, oldest first, at most `limit` of them; reads from the end of the file. */
  async loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]> {
    this.#checkOpen();
    checkCount('afterSeq', afterSeq);
    if (limit !== undefined) checkCount('limit', limit);
    const paths = this.#paths(sessionId);
    if (limit === 0) return [];
    const newest = await this.#readFromEnd(sessionId, paths, (_, firstSeq) => firstSeq <= afterSeq + 1);
    const source = newest ?? (await this.loadAll(sessionId));
    const after = source.filter((turn) => turn.seq > afterSeq);
    return limit === undefined ? after : after.slice(0, limit);
  }

  /** Turns ranked by BM25 against `query` (better than the original's token overlap). */
  async searchByText(sessionId: string, query: string, topK = 5): Promise<ScoredTurn[]> {
    this.#checkOpen();
    if (typeof query !== 'string') throw new ArchiveError('INVALID_ARGUMENT', 'query must be a string');
    checkCount('topK', topK);
    return rankByBm25(await this.loadAll(sessionId), query, topK);
  }

  /** Turns ranked by cosine similarity of their embeddings to `vector`. */
  async searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK = 5): Promise<ScoredTurn[]> {
    this.#checkOpen();
    checkCount('topK', topK);
    const query = toQueryVector(vector);
    return rankByCosine(await this.loadAll(sessionId), query, topK);
  }

  /** Removes the session's files; `true` when something was removed. */
  async deleteSession(sessionId: string): Promise<boolean> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    return this.#locks.withLock(paths.lock, async (lease) => {
      this.#keep(lease, undefined);
      lease.retire();
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
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    return (await exists(paths.file)) || (paths.legacy !== undefined && (await exists(paths.legacy)));
  }

  /** Created/updated times, turn count, size and last seq, read from the file's last bytes. */
  async getMetadata(sessionId: string): Promise<SessionMetadata | null> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    const meta = await this.#metadataOf(paths.file, sessionId, paths);
    if (meta) return meta;
    if (paths.legacy) return this.#legacyMetadata(paths.legacy, sessionId);
    return null;
  }

  async #metadataOf(file: string, sessionId: string, paths: Paths): Promise<SessionMetadata | null> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ArchiveError('IO_ERROR', `cannot open ${file}`, { cause: error });
    }
    let closed = false;
    try {
      const size = (await handle.stat()).size;
      if (size < FILE_HEADER_SIZE) return null;
      const headerBytes = Buffer.alloc(FILE_HEADER_SIZE);
      await handle.read(headerBytes, 0, FILE_HEADER_SIZE, 0);
      const header = parseFileHeader(headerBytes);
      const result = (m: { createdAt: number; updatedAt: number; turnCount: number; lastSeq: number }, sizeBytes = size): SessionMetadata => ({
        sessionId,
        createdAt: m.createdAt,
        updatedAt: m.updatedAt,
        turnCount: m.turnCount,
        sizeBytes,
        lastSeq: m.lastSeq,
        format: 'lix',
      });
      if (header.version === 1) {
        const tail = Buffer.alloc(Math.min(size, V1_META_FRAME));
        await handle.read(tail, 0, tail.byteLength, size - tail.byteLength);
        const meta = v1MetaFromTail(tail);
        if (meta) return result(meta);
      } else {
        if (paths.hashed) {
          const stored = await readStoredId(handle, size);
          if (stored !== undefined && stored !== sessionId) throw new ArchiveError('CORRUPT_FILE', `${file} holds another session than the one asked for`);
        }
        const meta = await readMetaAtEnd(handle, size);
        if (meta) return result(meta);
      }
      await handle.close();
      closed = true;
      // Torn or damaged end (a writer died mid-append): compute it from the readable frames.
      const read = await this.#readSessionFile(sessionId, paths);
      if (!read) return null;
      const last = read.turns[read.turns.length - 1];
      const base = read.meta ?? read.v1Meta;
      const now = this.#nowSeconds();
      return result({ createdAt: base?.createdAt ?? now, updatedAt: base?.updatedAt ?? now, turnCount: read.turns.length, lastSeq: last?.seq ?? 0 }, read.size);
    } finally {
      if (!closed) await handle.close();
    }
  }

  async #legacyMetadata(path: string, sessionId: string): Promise<SessionMetadata | null> {
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
      return {
        sessionId,
        createdAt: header.createdAt,
        updatedAt: header.updatedAt,
        turnCount: header.turnCount,
        sizeBytes: size,
        lastSeq: header.turnCount,
        format: 'legacy-huff',
      };
    } finally {
      await handle.close();
    }
  }

  /**
   * Reads a session fully and reports what it found: readable and acknowledged turn counts,
   * damaged byte ranges, a torn last append. Never modifies the file.
   */
  async verifySession(sessionId: string): Promise<SessionVerifyReport> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    const read = await this.#readSessionFile(sessionId, paths);
    if (!read) {
      if (paths.legacy && (await exists(paths.legacy))) {
        const turns = readLegacyTurns(await readFile(paths.legacy)).turns;
        return {
          sessionId,
          format: 'legacy-huff',
          formatVersion: undefined,
          readableTurns: turns.length,
          acknowledgedTurns: turns.length,
          damaged: [],
          tornTail: undefined,
          ok: true,
        };
      }
      return { sessionId, format: 'missing', formatVersion: undefined, readableTurns: 0, acknowledgedTurns: 0, damaged: [], tornTail: undefined, ok: false };
    }
    const acknowledged = Math.max(read.meta?.turnCount ?? read.v1Meta?.turnCount ?? 0, read.turns.length);
    return {
      sessionId,
      format: 'lix',
      formatVersion: read.version,
      readableTurns: read.turns.length,
      acknowledgedTurns: acknowledged,
      damaged: read.damaged,
      tornTail: read.tornTail,
      ok: read.damaged.length === 0 && acknowledged === read.turns.length,
    };
  }

  /** Rewrites a legacy `.huff` session in this format (same turns, created/updated kept). */
  async migrateLegacy(sessionId: string): Promise<boolean> {
    this.#checkOpen();
    const paths = this.#paths(sessionId);
    if (!paths.legacy) return false;
    const legacy = paths.legacy;
    return this.#locks.withLock(paths.lock, async () => {
      if ((await exists(paths.file)) || !(await exists(legacy))) return false;
      await this.#migrateLegacyLocked(sessionId, paths, legacy);
      return true;
    });
  }

  async #migrateLegacyLocked(sessionId: string, paths: Paths, legacyPath: string): Promise<void> {
    const { header, turns } = readLegacyTurns(await readFile(legacyPath));
    // The new file is complete before the old one goes: a crash in between leaves both, and the new one wins.
    this.#writeFreshFile(
      sessionId,
      paths.file,
      turns,
      { createdAt: header.createdAt, updatedAt: header.updatedAt, turnCount: turns.length, lastSeq: turns.length },
      this.#key !== undefined,
    );
    await unlink(legacyPath);
    this.#logger?.info?.('archive: migrated legacy session', { sessionId, turns: turns.length });
  }

  /** Streams the metadata of every session in the folder, one file at a time. */
  async *listSessions(): AsyncIterable<SessionMetadata> {
    this.#checkOpen();
    const dir = await opendir(this.dir);
    for await (const entry of dir) {
      if (!entry.isFile()) continue;
      if (entry.name.endsWith('.lix')) {
        const stem = entry.name.slice(0, -4);
        const path = join(this.dir, entry.name);
        const sessionId = isHashedStem(stem) ? await storedIdOf(path) : sessionIdFromStem(stem);
        if (sessionId === undefined) continue;
        let paths: Paths;
        try {
          paths = this.#paths(sessionId);
        } catch {
          continue;
        }
        if (paths.file !== path) continue;
        const meta = await this.#metadataOf(path, sessionId, paths).catch((error: unknown) => {
          this.#logger?.warn?.('archive: cannot read a session while listing', { file: path, error: String(error) });
          return null;
        });
        if (meta) yield meta;
      } else if (entry.name.endsWith('.huff')) {
        const sessionId = entry.name.slice(0, -5);
        if (legacyFileName(sessionId) !== entry.name) continue;
        if (await exists(join(this.dir, `${sessionFileStem(sessionId)}.lix`))) continue;
        const meta = await this.#legacyMetadata(join(this.dir, entry.name), sessionId).catch(() => null);
        if (meta) yield meta;
      }
    }
  }

  /** Deletes sessions not updated within `ttlDays`; resolves with how many were removed. */
  async cleanupExpired(): Promise<number> {
    this.#checkOpen();
    const cutoff = this.#nowSeconds() - this.#ttlDays * 86_400;
    const expired: string[] = [];
    for await (const meta of this.listSessions()) if (meta.updatedAt < cutoff) expired.push(meta.sessionId);
    let removed = 0;
    for (const sessionId of expired) if (await this.deleteSession(sessionId)) removed++;
    return removed;
  }

  /** `close()`, for `await using archive = new ConversationArchive(…)`: closed when the block ends. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Marks the archive closed; later calls reject with `CLOSED`. Kept leases are released, so no
   * handle stays open; tails not yet compacted stay as they are (durable frames), for the next writer.
   * Idle compactions not yet run are dropped.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#locks.releaseAll();
  }
}

/**
 * The header, and the SESSION frame for a hashed file name (`h-…`): there the name does not
 * give the id back, so every access checks the id stored in the file. A short id's name is its
 * injective escape, and the frame would only cost bytes.
 */
function fileStart(sessionId: string, file: string, encrypted: boolean, createdAt: number): Buffer[] {
  const parts = [fileHeader(encrypted)];
  if (isHashedStem(basename(file, '.lix'))) parts.push(frame(sessionPayload(sessionId, createdAt)));
  return parts;
}

function parseMeta(payload: Buffer): SessionMeta {
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

function readFileSyncSafe(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    return readExactly(fd, 0, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

async function storedIdOf(path: string): Promise<string | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    return await readStoredId(handle, (await handle.stat()).size);
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
