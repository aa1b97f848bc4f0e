import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { ArchiveError } from './errors.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Serialises writers of one session: an in-process queue (so a process never contends
 * with itself) and, across processes, an O_EXCL lock file holding the owner's pid.
 * A lock whose owner died (SIGKILL) is broken by the next writer.
 */
export class SessionLocks {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly timeoutMs: number) {}

  async withLock<T>(lockPath: string, body: () => Promise<T>): Promise<T> {
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

  private async holdFileLock<T>(lockPath: string, body: () => Promise<T>): Promise<T> {
    await this.acquire(lockPath);
    try {
      return await body();
    } finally {
      tryUnlink(lockPath);
    }
  }

  private async acquire(lockPath: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let wait = 1;
    for (;;) {
      try {
        // Synchronous calls: each is a few microseconds, far less than a thread-pool hop.
        const fd = openSync(lockPath, 'wx');
        try {
          writeSync(fd, String(process.pid));
        } finally {
          closeSync(fd);
        }
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ArchiveError('IO_ERROR', `cannot create lock ${lockPath}`, { cause: error });
        }
      }
      const owner = Number.parseInt(readOwner(lockPath), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !processAlive(owner)) {
        tryUnlink(lockPath);
        continue;
      }
      if (!Number.isInteger(owner)) {
        // A writer killed between creating the lock and writing its pid leaves it empty.
        const mtimeMs = lockMtime(lockPath);
        if (mtimeMs !== undefined && Date.now() - mtimeMs > 2000) {
          tryUnlink(lockPath);
          continue;
        }
      }
      if (Date.now() > deadline) {
        throw new ArchiveError('LOCK_TIMEOUT', `session lock ${lockPath} held by pid ${owner || 'unknown'} for over ${this.timeoutMs} ms`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 20);
    }
  }
}

function readOwner(lockPath: string): string {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch {
    return '';
  }
}

function lockMtime(lockPath: string): number | undefined {
  try {
    return statSync(lockPath).mtimeMs;
  } catch {
    return undefined;
  }
}

function tryUnlink(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {
    // already gone
  }
}
