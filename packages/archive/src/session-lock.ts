import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ArchiveError } from './errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Fixed width, so a renewal rewrites the same bytes. */
const COUNTER_WIDTH = 16;
const RELEASED = 'D';
const GENERATION = /^g(\d{1,15})$/;
/** A writer keeps its lease this long after an append, so a writer appending turn after turn pays for the lock once. */
const LINGER_MS = 4;
/** …but never holds it longer than this in one go: then it releases and stays out briefly, so other writers get their turn. */
const MAX_HOLD_MS = 40;
const YIELD_MS = 6;
/** Waiters poll at most this far apart. */
const MAX_POLL_MS = 4;

/** A held lease; see {@link SessionLocks}. */
export interface LeaseHandle {
  /** Renews the lease and throws `LOCK_LOST` when another writer took it over. Call before every write. */
  assertHeld(): void;
  /** Per-lease state of the caller (e.g. an open file), dropped with `dispose` when the lease ends. */
  cache: { dispose(): void } | undefined;
}

class Lease implements LeaseHandle {
  cache: { dispose(): void } | undefined;
  released = false;
  readonly heldSince = performance.now();
  private counter = 0;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    readonly generation: number,
    private readonly fd: number,
    staleMs: number,
  ) {
    this.heartbeat = setInterval(() => this.renew(), Math.max(10, Math.floor(staleMs / 4)));
    this.heartbeat.unref();
  }

  renew(): void {
    if (this.released) return;
    this.counter++;
    try {
      writeSync(this.fd, String(this.counter).padStart(COUNTER_WIDTH, '0'), 0);
    } catch {
      // shows up at the next assertHeld
    }
  }

  assertHeld(): void {
    if (this.released) throw new ArchiveError('LOCK_LOST', `session lock ${this.dir} was already released`);
    this.renew();
    if (this.superseded()) throw new ArchiveError('LOCK_LOST', `session lock ${this.dir} was taken over (this writer stalled past its lease); nothing was written`);
  }

  /** True when another writer took the lease over; only one that found it stale can create the next generation. */
  superseded(): boolean {
    try {
      return statSync(join(this.dir, `g${this.generation + 1}`), { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false; // cannot tell (EACCES…): the next write will fail loudly if it must
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    const cache = this.cache;
    this.cache = undefined;
    try {
      cache?.dispose();
    } finally {
      try {
        writeSync(this.fd, RELEASED, 0);
      } catch {
        // the waiters will find the lease stale instead
      }
      closeSync(this.fd);
    }
  }
}

/** Leases kept after their append, released on process exit so a clean exit never leaves a session blocked. */
const lingering = new Set<Lease>();
let exitHookInstalled = false;
function trackLingering(lease: Lease): void {
  lingering.add(lease);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const held of lingering) held.release();
      lingering.clear();
    });
  }
}

/**
 * Serialises writers of one session: an in-process queue (a process never contends with
 * itself) and, across processes, PID namespaces and hosts sharing the folder, a lease lock
 * made of generation files. No decision rests on whether a pid is alive.
 *
 * The lock of a session is the folder `.lix-locks/<stem>/` holding files `g1`, `g2`, …; the
 * writer that created the highest generation `gN` holds the lock until it writes `D` (done)
 * into it.
 *
 * - **Acquire.** Read the folder; when `gN` is done (or missing), create `g(N+1)` with
 *   `O_EXCL`: of all writers that try, exactly one succeeds. It then lists the folder again
 *   and backs off if a higher generation exists (it raced with a pruned name), and removes
 *   `g(N-1)`, so the folder holds two or three files.
 * - **Lease.** The holder rewrites a counter in its file every `staleMs / 4` and before each
 *   write. Waiters watch the counter with their own monotonic clock, so clock skew between
 *   hosts does not matter.
 * - **Break.** A waiter that saw the same counter in `gN` for `staleMs` creates `g(N+1)`,
 *   again with `O_EXCL`: two waiters can never both enter after a dead owner.
 * - **Stall.** A holder that finds `g(N+1)` (it stalled past its lease) throws `LOCK_LOST`
 *   before writing anything.
 *
 * A writer keeps its lease for a few milliseconds after an append (and its open file with
 * it), since creating a file costs more than an append; it releases after 40 ms of holding
 * and then waits a moment, so writers in other processes get their turn.
 */
export class SessionLocks {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly idle = new Map<string, { lease: Lease; timer: NodeJS.Timeout }>();
  private readonly cooldown = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly staleMs: number,
  ) {}

  async withLock<T>(lockDir: string, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    const previous = this.queues.get(lockDir) ?? Promise.resolve();
    const run = previous.then(
      () => this.hold(lockDir, body),
      () => this.hold(lockDir, body),
    );
    const settled = run.catch(() => undefined);
    this.queues.set(lockDir, settled);
    void settled.then(() => {
      if (this.queues.get(lockDir) === settled) this.queues.delete(lockDir);
    });
    return run;
  }

  /** Releases every lease this instance keeps (on `close`). */
  releaseAll(): void {
    this.closed = true;
    for (const [lockDir, { lease, timer }] of this.idle) {
      clearTimeout(timer);
      this.idle.delete(lockDir);
      lingering.delete(lease);
      lease.release();
    }
  }

  private takeIdle(lockDir: string): Lease | undefined {
    const kept = this.idle.get(lockDir);
    if (!kept) return undefined;
    clearTimeout(kept.timer);
    this.idle.delete(lockDir);
    lingering.delete(kept.lease);
    // The body renews the lease before it writes (assertHeld); here only a takeover
    // matters, so a superseded lease is dropped and a fresh one acquired. The heartbeat
    // kept the counter moving meanwhile, so no renewal write is needed twice per append.
    if (!kept.lease.released && !kept.lease.superseded()) return kept.lease;
    kept.lease.release();
    return undefined;
  }

  private async hold<T>(lockDir: string, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    const lease = this.takeIdle(lockDir) ?? (await this.acquire(lockDir));
    let failed = false;
    try {
      return await body(lease);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const heldFor = performance.now() - lease.heldSince;
      if (failed || this.closed || heldFor >= MAX_HOLD_MS) {
        lease.release();
        if (heldFor >= MAX_HOLD_MS) this.cooldown.set(lockDir, performance.now() + YIELD_MS);
      } else {
        const timer = setTimeout(() => {
          if (this.idle.get(lockDir)?.lease !== lease) return;
          this.idle.delete(lockDir);
          lingering.delete(lease);
          lease.release();
        }, LINGER_MS);
        timer.unref();
        this.idle.set(lockDir, { lease, timer });
        trackLingering(lease);
      }
    }
  }

  private async acquire(lockDir: string): Promise<Lease> {
    const until = this.cooldown.get(lockDir);
    if (until !== undefined) {
      this.cooldown.delete(lockDir);
      const wait = until - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const started = performance.now();
    let observed = '';
    let observedSince = started;
    let wait = 1;
    for (;;) {
      const state = readLock(lockDir);
      const now = performance.now();
      let free = state.top === 0 || state.released;
      if (!free) {
        if (state.key !== observed) {
          observed = state.key;
          observedSince = now;
        } else if (now - observedSince >= this.staleMs) {
          free = true; // the lease was not renewed for staleMs: its holder is gone
        }
      }
      if (free) {
        const lease = this.tryCreate(lockDir, state.top + 1);
        if (lease) return lease;
        observed = '';
        continue;
      }
      if (now - started > this.timeoutMs) {
        throw new ArchiveError('LOCK_TIMEOUT', `session lock ${lockDir} is held and renewed by another writer for over ${this.timeoutMs} ms`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, MAX_POLL_MS);
    }
  }

  private tryCreate(lockDir: string, generation: number): Lease | undefined {
    const name = join(lockDir, `g${generation}`);
    let fd: number;
    try {
      fd = openSync(name, 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return undefined;
      throw new ArchiveError('IO_ERROR', `cannot take lock ${lockDir}`, { cause: error });
    }
    try {
      writeSync(fd, `${'0'.padStart(COUNTER_WIDTH, '0')}\n${hostname()} ${process.pid}\n`, 0);
      const after = readLock(lockDir);
      if (after.top > generation) {
        // Our name had been pruned and reused: a higher generation holds the lock.
        closeSync(fd);
        unlinkQuietly(name);
        return undefined;
      }
      for (const old of after.generations) if (old < generation - 1) unlinkQuietly(join(lockDir, `g${old}`));
      return new Lease(lockDir, generation, fd, this.staleMs);
    } catch (error) {
      closeSync(fd);
      unlinkQuietly(name);
      throw error instanceof ArchiveError ? error : new ArchiveError('IO_ERROR', `cannot take lock ${lockDir}`, { cause: error });
    }
  }
}

interface LockState {
  top: number;
  generations: number[];
  released: boolean;
  /** Changes whenever the holder or its counter changes. */
  key: string;
}

function readLock(lockDir: string): LockState {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      try {
        mkdirSync(lockDir);
      } catch (mkdirError) {
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') throw new ArchiveError('IO_ERROR', `cannot create lock folder ${lockDir}`, { cause: mkdirError });
      }
      return readLock(lockDir);
    }
    throw new ArchiveError('IO_ERROR', `cannot read lock folder ${lockDir}`, { cause: error });
  }
  const generations: number[] = [];
  for (const name of names) {
    const match = GENERATION.exec(name);
    if (match) generations.push(Number(match[1]));
  }
  if (generations.length === 0) return { top: 0, generations, released: true, key: '' };
  const top = Math.max(...generations);
  let content = '';
  try {
    const fd = openSync(join(lockDir, `g${top}`), 'r');
    try {
      const buf = Buffer.alloc(COUNTER_WIDTH);
      content = buf.toString('latin1', 0, readSync(fd, buf, 0, COUNTER_WIDTH, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    // pruned between the listing and the read: a newer generation exists; look again
    return readLock(lockDir);
  }
  return { top, generations, released: content.startsWith(RELEASED), key: `${top}:${content}` };
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
