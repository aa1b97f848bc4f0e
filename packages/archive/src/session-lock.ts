import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ArchiveError } from './errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OWNER_PREFIX = 'owner-';
/** Fixed width, so a renewal rewrites the same bytes and never leaves a longer old value behind. */
const COUNTER_WIDTH = 16;

/** A held lease: renewed by a timer and before every write; see {@link SessionLocks}. */
export interface LeaseHandle {
  /** Renews the lease now and throws `LOCK_LOST` when another writer took it over. */
  assertHeld(): void;
}

/**
 * Serialises writers of one session: an in-process queue (a process never contends with
 * itself) and, across processes, PID namespaces and hosts sharing the folder, a lease lock.
 * No decision rests on whether a pid is alive.
 *
 * The lock is the directory `<stem>.lock` holding exactly one file `owner-<token>`:
 *
 * - **Acquire.** A writer prepares `<stem>.lock.<token>.tmp/owner-<token>` and renames the
 *   directory to `<stem>.lock`. `rename` succeeds only when the target is missing or an
 *   empty directory, so at most one writer's owner file is ever in the lock.
 * - **Lease.** The holder rewrites a counter in its owner file every `staleMs / 4` and
 *   before each write. A waiter watches the owner file's name and content with its own
 *   monotonic clock, so clock skew between hosts does not matter.
 * - **Break.** A waiter that saw the same owner and counter for `staleMs` unlinks that owner
 *   file by its unique name. Only one waiter can unlink it; only that one then removes the
 *   empty directory (and a writer that renamed its own directory in first makes that `rmdir`
 *   fail harmlessly). Two waiters therefore never both enter after a dead owner.
 * - **Release.** The holder unlinks its owner file, then removes the directory.
 *
 * A holder that finds its owner file gone (it stalled longer than `staleMs`) throws
 * `LOCK_LOST` before writing instead of writing without the lock.
 */
export class SessionLocks {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly staleMs: number,
  ) {}

  async withLock<T>(lockPath: string, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    const previous = this.queues.get(lockPath) ?? Promise.resolve();
    const run = previous.then(
      () => this.holdFileLock(lockPath, body),
      () => this.holdFileLock(lockPath, body),
    );
    const settled = run.catch(() => undefined);
    this.queues.set(lockPath, settled);
    void settled.then(() => {
      if (this.queues.get(lockPath) === settled) this.queues.delete(lockPath);
    });
    return run;
  }

  private async holdFileLock<T>(lockPath: string, body: (lease: LeaseHandle) => Promise<T>): Promise<T> {
    const lease = await this.acquire(lockPath);
    const timer = setInterval(() => lease.renew(), Math.max(10, Math.floor(this.staleMs / 4)));
    timer.unref();
    try {
      return await body(lease);
    } finally {
      clearInterval(timer);
      lease.release();
    }
  }

  private async acquire(lockPath: string): Promise<Lease> {
    const token = randomBytes(12).toString('hex');
    const staging = `${lockPath}.${token}.tmp`;
    const ownerName = `${OWNER_PREFIX}${token}`;
    let fd: number;
    try {
      mkdirSync(staging);
      fd = openSync(join(staging, ownerName), 'wx');
      writeSync(fd, `${'0'.padStart(COUNTER_WIDTH, '0')}\n${hostname()} ${process.pid}\n`, 0);
    } catch (error) {
      removeQuietly(staging);
      throw new ArchiveError('IO_ERROR', `cannot prepare lock ${lockPath}`, { cause: error });
    }
    const started = performance.now();
    let observed = '';
    let observedSince = started;
    let wait = 1;
    try {
      for (;;) {
        try {
          renameSync(staging, lockPath);
          return new Lease(lockPath, ownerName, fd);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EACCES') {
            throw new ArchiveError('IO_ERROR', `cannot take lock ${lockPath}`, { cause: error });
          }
        }
        const now = performance.now();
        const state = observeLock(lockPath);
        if (state.key !== observed) {
          observed = state.key;
          observedSince = now;
        } else if (now - observedSince >= this.staleMs && state.key !== '') {
          breakStale(lockPath, state);
          observed = '';
          continue;
        }
        if (now - started > this.timeoutMs) {
          throw new ArchiveError('LOCK_TIMEOUT', `session lock ${lockPath} is held and renewed by another writer for over ${this.timeoutMs} ms`);
        }
        await sleep(wait);
        wait = Math.min(wait * 2, 16);
      }
    } catch (error) {
      closeSync(fd);
      removeQuietly(staging);
      throw error;
    }
  }
}

class Lease implements LeaseHandle {
  private counter = 0;
  private released = false;

  constructor(
    private readonly lockPath: string,
    private readonly ownerName: string,
    private readonly fd: number,
  ) {}

  renew(): void {
    if (this.released) return;
    this.counter++;
    try {
      // Through the descriptor: the inode is the one inside the lock, whatever its path.
      writeSync(this.fd, String(this.counter).padStart(COUNTER_WIDTH, '0'), 0);
    } catch {
      // A failed renewal shows up at the next assertHeld.
    }
  }

  assertHeld(): void {
    this.renew();
    try {
      statSync(join(this.lockPath, this.ownerName));
    } catch {
      throw new ArchiveError('LOCK_LOST', `session lock ${this.lockPath} was taken over (this writer stalled past its lease); nothing was written`);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    closeSync(this.fd);
    try {
      unlinkSync(join(this.lockPath, this.ownerName));
    } catch {
      return; // taken over already: the directory is someone else's now
    }
    try {
      rmdirSync(this.lockPath);
    } catch {
      // ENOTEMPTY: the next writer renamed its directory in between; it owns it now.
    }
  }
}

interface LockState {
  /** Changes whenever the owner or its lease counter changes; '' when there is nothing to break. */
  key: string;
  owner?: string;
  legacyFile?: boolean;
}

function observeLock(lockPath: string): LockState {
  let entries: string[];
  try {
    entries = readdirSync(lockPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') {
      // A lock file left by a release before format 2: stale once its mtime stops moving.
      try {
        return { key: `file:${statSync(lockPath).mtimeMs}`, legacyFile: true };
      } catch {
        return { key: '' };
      }
    }
    return { key: '' };
  }
  const owner = entries.find((name) => name.startsWith(OWNER_PREFIX));
  if (!owner) return { key: '' };
  let counter = '';
  try {
    counter = readFileSync(join(lockPath, owner), 'latin1').slice(0, COUNTER_WIDTH);
  } catch {
    return { key: '' };
  }
  return { key: `${owner}:${counter}`, owner };
}

function breakStale(lockPath: string, state: LockState): void {
  if (state.legacyFile) {
    // unlink never removes a directory, so this cannot break a lock taken meanwhile.
    try {
      unlinkSync(lockPath);
    } catch {
      // gone, or replaced by a lock directory
    }
    return;
  }
  try {
    unlinkSync(join(lockPath, state.owner!));
  } catch {
    return; // another waiter broke it first, or the owner released it
  }
  try {
    rmdirSync(lockPath);
  } catch {
    // ENOTEMPTY: a writer already renamed its directory over the empty one
  }
}

function removeQuietly(staging: string): void {
  try {
    for (const name of readdirSync(staging)) unlinkSync(join(staging, name));
    rmdirSync(staging);
  } catch {
    // nothing to clean
  }
}
