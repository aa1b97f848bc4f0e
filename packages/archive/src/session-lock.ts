import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { abortedError } from './abort.js';
import { ArchiveError } from './errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Fixed width, so a renewal rewrites the same bytes. */
const COUNTER_WIDTH = 16;
const RELEASED = 'D';
const GENERATION = /^g(\d{1,15})$/;
/**
 * A writer keeps its lease after an append, so a writer appending turn after turn pays for the
 * lock once: every LINGER_MS it looks for a waiter's mark and releases when it finds one, and
 * without one it releases after IDLE_RELEASE_MS without an append (running the deferred work first).
 */
const LINGER_MS = 20;
const IDLE_RELEASE_MS = 1_000;
/** At most this many idle leases are kept per instance; the least recently used goes first. */
const MAX_KEPT_IDLE = 256;
/**
 * …and after this long in one go it looks for a waiter's mark; when another writer waits, it
 * releases and stays out briefly, so that writer gets its turn. Without a waiter it keeps the lease.
 */
const MAX_HOLD_MS = 40;
/**
 * Whatever the marks say, a lease is given up after this long in one go: a waiter of an older
 * release (which leaves no mark) still gets its turn, at a cost of YIELD_MS per this much holding.
 */
const MAX_UNMARKED_HOLD_MS = 500;
const YIELD_MS = 6;
/** A waiter (in another process or host) keeps this file in the lock folder while it waits. */
const WAITER_MARK = 'w';
/** Waiters poll at most this far apart. */
const MAX_POLL_MS = 4;

/**
 * A call of {@link SessionLocks.withLock} that can be given up while it waits. `queued`: behind
 * this instance's own calls on the lock; `acquiring`: polling the lock folder; `holding`: the
 * body runs, and the signal no longer counts; `aborted`: given up, the body never runs.
 */
interface Waiter {
  readonly signal: AbortSignal;
  phase: 'queued' | 'acquiring' | 'holding' | 'aborted';
  /** Ends the current poll pause early (set while one runs). */
  wake: (() => void) | undefined;
}

/** A pause between polls that an abort ends at once, clearing its timer. */
function pause(ms: number, waiter: Waiter | undefined): Promise<void> {
  if (waiter === undefined) return sleep(ms);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiter.wake = undefined;
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiter.wake = done;
  });
}

/** Per-lease state of a lock's user (e.g. an open file). */
export interface LeaseCache {
  /** Called when the lease ends. */
  dispose(): void;
  /**
   * Called while the lease is still held, just before a lease kept idle for IDLE_RELEASE_MS
   * ends: the place for deferred work such as a compaction. A throw goes to the locks' `onError`.
   */
  beforeIdleRelease?(): void;
}

/** A held lease; see {@link SessionLocks}. */
export interface LeaseHandle {
  /**
   * Throws `LOCK_LOST` when another writer took the lease over. Call before every write. It
   * costs no I/O while the lease is known to be safe (renewed and checked less than
   * `lockStaleMs / 2` ago); otherwise it renews and checks.
   */
  assertHeld(): void;
  /** Per-lease state of the caller (e.g. an open file), dropped with `dispose` when the lease ends. */
  cache: LeaseCache | undefined;
  /** Ends the lease when the body returns and removes the lock folder (after `deleteSession`). */
  retire(): void;
}

class Lease implements LeaseHandle {
  cache: LeaseCache | undefined;
  released = false;
  /** Set by `retire`: the lock folder goes with the lease (the session was deleted). */
  retiring = false;
  readonly heldSince = performance.now();
  /** When the holder last looked for a waiter's mark. */
  markCheckedAt = this.heldSince;
  #counter = 0;
  readonly #heartbeat: NodeJS.Timeout;
  /**
   * Until this moment (monotonic clock) no waiter can have taken the lease over, so a write
   * needs no check. A waiter takes over only after seeing the same counter for `staleMs`;
   * once a renewal was followed by a check that found no successor, no takeover can happen
   * before the renewal's time + `staleMs`, and every renewal issued before that moment
   * carries the guarantee on. Half of `staleMs` leaves room for clocks ticking at different rates.
   */
  #safeUntil: number;
  readonly #safeMs: number;

  readonly #fd: number;
  constructor(
    readonly dir: string,
    readonly generation: number,
    fd: number,
    staleMs: number,
    createdAt: number,
  ) {
    this.#fd = fd;
    this.#safeMs = staleMs / 2;
    this.#safeUntil = createdAt + this.#safeMs;
    this.#heartbeat = setInterval(() => this.renew(), Math.max(10, Math.floor(staleMs / 4)));
    this.#heartbeat.unref();
  }

  /** Writes the next counter value; true when it was written. */
  #writeCounter(): boolean {
    this.#counter++;
    try {
      writeSync(this.#fd, String(this.#counter).padStart(COUNTER_WIDTH, '0'), 0);
      return true;
    } catch {
      return false; // shows up at the next assertHeld
    }
  }

  renew(): void {
    if (this.released) return;
    const issuedAt = performance.now();
    if (this.#writeCounter() && issuedAt < this.#safeUntil) this.#safeUntil = issuedAt + this.#safeMs;
  }

  assertHeld(): void {
    if (this.released) throw new ArchiveError('LOCK_LOST', `session lock ${this.dir} was already released`);
    if (performance.now() < this.#safeUntil) return;
    const issuedAt = performance.now();
    const renewed = this.#writeCounter();
    if (this.superseded())
      throw new ArchiveError('LOCK_LOST', `session lock ${this.dir} was taken over (this writer stalled past its lease); nothing was written`);
    if (renewed) this.#safeUntil = issuedAt + this.#safeMs;
  }

  retire(): void {
    this.retiring = true;
  }

  /** True when the lease cannot have been taken over, or a check finds it was not. */
  stillHeld(): boolean {
    return !this.released && (performance.now() < this.#safeUntil || !this.superseded());
  }

  /**
   * True when another writer took the lease over: only one that found it stale can create the
   * next generation, and a writer two generations on has pruned this one's file.
   */
  superseded(): boolean {
    try {
      if (statSync(join(this.dir, `g${this.generation + 1}`), { throwIfNoEntry: false }) !== undefined) return true;
      return fstatSync(this.#fd).nlink === 0;
    } catch {
      return false; // cannot tell (EACCES…): the next write will fail loudly if it must
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.#heartbeat);
    const cache = this.cache;
    this.cache = undefined;
    try {
      cache?.dispose();
    } finally {
      try {
        writeSync(this.#fd, RELEASED, 0);
      } catch {
        // the waiters will find the lease stale instead
      }
      closeSync(this.#fd);
      if (this.retiring) removeLockFolder(this.dir, this.generation);
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
 * A writer keeps its lease after an append (and its open file with it), since creating a file
 * costs more than an append, and while it keeps it an append does no lock I/O at all (see
 * `Lease.safeUntil`). A waiter leaves a mark file `w` in the folder at each poll. An idle holder
 * looks for it every 20 ms and releases when it finds it, or after 1 s without an append; a
 * busy holder looks every 40 ms of holding and, when a writer waits (or after 500 ms in any
 * case), releases and stays out a moment, so writers in other processes get their turn.
 */
export class SessionLocks {
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #idle = new Map<string, { lease: Lease; timer: NodeJS.Timeout }>();
  readonly #cooldown = new Map<string, number>();
  #closed = false;

  readonly #timeoutMs: number;
  readonly #staleMs: number;
  readonly #onError: (error: unknown, lockDir: string) => void;
  constructor(timeoutMs: number, staleMs: number, onError: (error: unknown, lockDir: string) => void = () => undefined) {
    this.#timeoutMs = timeoutMs;
    this.#staleMs = staleMs;
    this.#onError = onError;
  }

  /** Runs `body` holding the lock of `lockDir`, after this instance's earlier calls on it. */
  withLock<T>(lockDir: string, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    return this.withLockUnlessAborted(lockDir, undefined, body);
  }

  /**
   * {@link withLock}, given up when `signal` aborts while the call still waits (queued behind
   * this instance's calls, or polling another holder's lock): the call then rejects with
   * `ABORTED`, the body never runs, and the waiter's mark it left is removed. Once the lock
   * is held the signal is no longer observed.
   */
  async withLockUnlessAborted<T>(lockDir: string, signal: AbortSignal | undefined, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw abortedError(signal);
    const waiter: Waiter | undefined = signal === undefined ? undefined : { signal, phase: 'queued', wake: undefined };
    const previous = this.#queues.get(lockDir) ?? Promise.resolve();
    const start = () => this.#hold(lockDir, body, waiter);
    const run = previous.then(start, start);
    const settled = run.catch(() => undefined);
    this.#queues.set(lockDir, settled);
    void settled.then(() => {
      if (this.#queues.get(lockDir) === settled) this.#queues.delete(lockDir);
    });
    if (waiter === undefined || signal === undefined) return run;
    return new Promise<T>((resolve, reject) => {
      // Removed before the caller hears the outcome, so no listener outlives the call.
      const onAbort = () => {
        if (waiter.phase === 'queued') {
          // Still behind this instance's own calls: nothing to clean up, the queue skips the body.
          waiter.phase = 'aborted';
          signal.removeEventListener('abort', onAbort);
          reject(abortedError(signal));
        } else if (waiter.phase === 'acquiring') {
          // The poll loop removes its mark and rejects through `run`.
          waiter.wake?.();
        }
      };
      signal.addEventListener('abort', onAbort);
      run.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** True while this instance keeps the lease of `lockDir` or has work queued on it. */
  isKept(lockDir: string): boolean {
    return this.#idle.has(lockDir) || this.#queues.has(lockDir);
  }

  /** Releases every lease this instance keeps (on `close`). */
  releaseAll(): void {
    this.#closed = true;
    for (const [lockDir, { lease, timer }] of this.#idle) {
      clearTimeout(timer);
      this.#idle.delete(lockDir);
      lingering.delete(lease);
      lease.release();
    }
  }

  #takeIdle(lockDir: string): Lease | undefined {
    const kept = this.#idle.get(lockDir);
    if (!kept) return undefined;
    clearTimeout(kept.timer);
    this.#idle.delete(lockDir);
    lingering.delete(kept.lease);
    // Only a takeover matters here (the body checks again before it writes); a lease renewed
    // and checked recently cannot have been taken over, so this usually costs no I/O.
    if (kept.lease.stillHeld()) return kept.lease;
    kept.lease.release();
    return undefined;
  }

  async #hold<T>(lockDir: string, body: (lease: LeaseHandle) => Promise<T>, waiter?: Waiter): Promise<T> {
    if (waiter !== undefined) {
      if (waiter.phase === 'aborted') throw abortedError(waiter.signal); // given up in the queue; the caller knows
      waiter.phase = 'acquiring';
    }
    let lease = this.#takeIdle(lockDir);
    if (lease === undefined) lease = await this.#acquire(lockDir, waiter);
    // From here on the body runs whatever the signal does: an abort never cuts a write short.
    if (waiter !== undefined) waiter.phase = 'holding';
    let failed = false;
    try {
      return await body(lease);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      const now = performance.now();
      let yieldNow = false;
      if (!failed && !lease.retiring && now - lease.markCheckedAt >= MAX_HOLD_MS) {
        // One stat per MAX_HOLD_MS of holding: yield only to a writer that waits.
        if (now - lease.heldSince >= MAX_UNMARKED_HOLD_MS || waiterPresent(lockDir)) yieldNow = true;
        else lease.markCheckedAt = now;
      }
      if (failed || this.#closed || yieldNow || lease.retiring) {
        lease.release();
        if (yieldNow) this.#cooldown.set(lockDir, performance.now() + YIELD_MS);
      } else {
        this.#keepIdle(lockDir, lease);
      }
    }
  }

  #keepIdle(lockDir: string, lease: Lease): void {
    const idleSince = performance.now();
    const timer = setTimeout(() => {
      if (this.#idle.get(lockDir)?.lease !== lease) return;
      const waited = waiterPresent(lockDir);
      if (!waited && performance.now() - idleSince < IDLE_RELEASE_MS) {
        timer.refresh();
        return;
      }
      this.#idle.delete(lockDir);
      lingering.delete(lease);
      // A waiting writer gets the lock at once; the deferred work is for a session left alone.
      if (waited) lease.release();
      else this.#releaseIdle(lease, lockDir);
    }, LINGER_MS);
    timer.unref();
    this.#idle.set(lockDir, { lease, timer });
    trackLingering(lease);
    if (this.#idle.size > MAX_KEPT_IDLE) {
      const [oldestDir, oldest] = this.#idle.entries().next().value as [string, { lease: Lease; timer: NodeJS.Timeout }];
      clearTimeout(oldest.timer);
      this.#idle.delete(oldestDir);
      lingering.delete(oldest.lease);
      this.#releaseIdle(oldest.lease, oldestDir);
    }
  }

  #releaseIdle(lease: Lease, lockDir: string): void {
    try {
      lease.cache?.beforeIdleRelease?.();
    } catch (error) {
      this.#onError(error, lockDir);
    } finally {
      lease.release();
    }
  }

  async #acquire(lockDir: string, waiter?: Waiter): Promise<Lease> {
    let marked = false;
    const giveUpIfAborted = () => {
      if (!waiter?.signal.aborted) return;
      waiter.phase = 'aborted';
      // Other waiters put their mark back at their next poll (≤ MAX_POLL_MS), as after an acquire.
      if (marked) unlinkQuietly(join(lockDir, WAITER_MARK));
      throw abortedError(waiter.signal);
    };
    const until = this.#cooldown.get(lockDir);
    if (until !== undefined) {
      this.#cooldown.delete(lockDir);
      const wait = until - performance.now();
      if (wait > 0) await pause(wait, waiter);
    }
    const started = performance.now();
    let observed = '';
    let observedSince = started;
    let wait = 1;
    for (;;) {
      giveUpIfAborted();
      const state = readLock(lockDir);
      const now = performance.now();
      let free = state.top === 0 || state.released;
      if (!free) {
        if (state.key !== observed) {
          observed = state.key;
          observedSince = now;
        } else if (now - observedSince >= this.#staleMs) {
          free = true; // the lease was not renewed for staleMs: its holder is gone
        }
      }
      if (free) {
        const lease = this.#tryCreate(lockDir, state.top + 1);
        if (lease) return lease;
        observed = '';
        continue;
      }
      if (now - started > this.#timeoutMs) {
        throw new ArchiveError('LOCK_TIMEOUT', `session lock ${lockDir} is held and renewed by another writer for over ${this.#timeoutMs} ms`);
      }
      markWaiting(lockDir);
      marked = true;
      await pause(wait, waiter);
      wait = Math.min(wait * 2, MAX_POLL_MS);
    }
  }

  #tryCreate(lockDir: string, generation: number): Lease | undefined {
    const name = join(lockDir, `g${generation}`);
    const createdAt = performance.now();
    let fd: number;
    try {
      fd = openSync(name, 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EEXIST: another writer won this generation; ENOENT: the folder was just removed with its
      // deleted session (the next look creates it again).
      if (code === 'EEXIST' || code === 'ENOENT') return undefined;
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
      // Our own wait is over; writers still waiting put their mark back at their next poll.
      unlinkQuietly(join(lockDir, WAITER_MARK));
      return new Lease(lockDir, generation, fd, this.#staleMs, createdAt);
    } catch (error) {
      closeSync(fd);
      unlinkQuietly(name);
      throw error instanceof ArchiveError ? error : new ArchiveError('IO_ERROR', `cannot take lock ${lockDir}`, { cause: error });
    }
  }
}

/** Tells the holder (in any process or host) that a writer waits: it then yields within MAX_HOLD_MS. */
function markWaiting(lockDir: string): void {
  try {
    closeSync(openSync(join(lockDir, WAITER_MARK), 'a'));
  } catch {
    // the folder is being removed, or not writable: the holder will release when idle anyway
  }
}

function waiterPresent(lockDir: string): boolean {
  try {
    return statSync(join(lockDir, WAITER_MARK), { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
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
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new ArchiveError('IO_ERROR', `cannot create lock folder ${lockDir}`, { cause: mkdirError });
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

/**
 * Removes a released lock folder: generation files up to ours, the waiter mark, the folder.
 * Safe against every other writer: a waiter that finds the folder empty or gone creates it
 * and `g1` again with `O_EXCL` (one winner, as always); a writer that already created a
 * higher generation keeps the folder (it is not empty, so `rmdir` fails and nothing more
 * happens); a stalled former holder sees its own file unlinked (`nlink` 0) and stops.
 */
function removeLockFolder(lockDir: string, generation: number): void {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = GENERATION.exec(name);
    if (match && Number(match[1]) <= generation) unlinkQuietly(join(lockDir, name));
  }
  unlinkQuietly(join(lockDir, WAITER_MARK));
  try {
    rmdirSync(lockDir);
  } catch {
    // another writer is already in it (ENOTEMPTY) or it is gone: both fine
  }
}
