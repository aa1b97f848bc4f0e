import { KVError } from './errors.js';

/** One command waiting for its reply (a class, not closures: allocated on the hot path). */
class PendingCommand {
  readonly command: string;
  /** Cleared once the command has settled, by its reply or by the deadline. */
  reject: ((error: unknown) => void) | undefined = undefined;
  onError: ((error: unknown) => unknown) | undefined = undefined;

  constructor(command: string) {
    this.command = command;
  }
}

/** How many ticks one timeout spans: a deadline fires at most 1/TICKS late. */
const TICKS = 10;

/** The commands sent since `start` (a clock reading taken once per tick, not per command). */
interface Bucket {
  start: number;
  entries: PendingCommand[];
}

/**
 * Fails commands that get no answer within a fixed time, with one shared timer wheel:
 * an unref()ed interval ticking every `timeoutMs / 10`, and per tick a bucket of the
 * commands sent during it. A command costs an array push and, when it settles, one
 * cleared field: no timer, no hash set, no clock read of its own.
 *
 * Why it exists: node-redis' per-command `timeout` only covers the time before the
 * command is written (and arms an AbortSignal per command); a command already sent to a
 * frozen server would wait forever. A bucket expires at the first tick at least
 * `timeoutMs` after it was opened (before its commands were sent), so a command fails
 * after at least the timeout and about one tick more at most; a late timer only delays
 * that, never fails a command early.
 */
export class CommandDeadlines {
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  readonly #label: string;
  /** Closed buckets, oldest first. */
  #buckets: Bucket[] = [];
  /** The bucket commands go into now. */
  #current: Bucket = { start: 0, entries: [] };
  /** Commands not settled yet: the wheel stops when none are left. */
  #live = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(label: string, timeoutMs: number) {
    this.#label = label;
    this.#timeoutMs = timeoutMs;
    this.#tickMs = Math.max(1, Math.ceil(timeoutMs / TICKS));
  }

  /** Settles like `promise`, or rejects with `TIMEOUT` once the deadline passes first. */
  track<T>(promise: Promise<T>, command: string): Promise<T> {
    return this.trackMapped(
      promise,
      command,
      (reply) => reply as T,
      (error) => error,
    );
  }

  /**
   * {@link track} with the reply converted by `onReply` and every failure (the deadline's
   * `TIMEOUT` included) mapped by `onError`, settled through one promise per command.
   */
  trackMapped<T>(promise: Promise<unknown>, command: string, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T> {
    const entry = new PendingCommand(command);
    this.#current.entries.push(entry);
    this.#live++;
    this.#timer ??= this.#start();
    // Inline anonymous callbacks only: named function expressions cost more per call
    // under some transpilers (esbuild keepNames wraps each one).
    return new Promise<T>((resolve, reject) => {
      entry.reject = reject;
      entry.onError = onError;
      promise.then(
        (reply) => {
          if (entry.reject === undefined) return;
          entry.reject = undefined;
          this.#live--;
          let value: T;
          try {
            value = onReply(reply);
          } catch (error) {
            reject(onError(error));
            return;
          }
          resolve(value);
        },
        (error: unknown) => {
          if (entry.reject === undefined) return;
          entry.reject = undefined;
          this.#live--;
          reject(onError(error));
        },
      );
    });
  }

  /**
   * {@link trackMapped} for a client whose command can be settled from outside (ioredis's
   * `Command.reject`, which its own `commandTimeout` uses): the deadline calls `cancel`
   * with `TIMEOUT` and the failure arrives through `promise` like any other, so a command
   * costs one derived promise instead of a wrapping one.
   */
  trackCancelable<T>(
    promise: Promise<unknown>,
    cancel: (error: Error) => void,
    command: string,
    onReply: (reply: unknown) => T,
    onError: (error: unknown) => unknown,
  ): Promise<T> {
    const entry = new PendingCommand(command);
    entry.reject = cancel as (error: unknown) => void;
    this.#current.entries.push(entry);
    this.#live++;
    this.#timer ??= this.#start();
    return promise.then(
      (reply) => {
        if (entry.reject !== undefined) {
          entry.reject = undefined;
          this.#live--;
        }
        try {
          return onReply(reply);
        } catch (error) {
          throw onError(error);
        }
      },
      (error: unknown) => {
        if (entry.reject !== undefined) {
          entry.reject = undefined;
          this.#live--;
        }
        throw onError(error);
      },
    );
  }

  #start(): NodeJS.Timeout {
    // Opened now, so its commands (sent from now on) are timed from here.
    this.#current.start = Date.now();
    const timer = setInterval(() => this.#tick(), this.#tickMs);
    timer.unref();
    return timer;
  }

  #tick(): void {
    const now = Date.now();
    this.#buckets.push(this.#current);
    this.#current = { start: now, entries: [] };
    while (this.#buckets.length > 0 && now - this.#buckets[0]!.start >= this.#timeoutMs) {
      for (const entry of this.#buckets.shift()!.entries) this.#expire(entry);
    }
    if (this.#live === 0) this.dispose();
  }

  #expire(entry: PendingCommand): void {
    const reject = entry.reject;
    if (reject === undefined) return;
    entry.reject = undefined;
    this.#live--;
    const error = new KVError('TIMEOUT', `${this.#label}: ${entry.command} got no answer within ${this.#timeoutMs} ms`);
    reject(entry.onError === undefined ? error : entry.onError(error));
  }

  /** Rejects every command still waiting with `error` (mapped like a timeout). */
  failAll(error: KVError): void {
    const buckets = [...this.#buckets, this.#current];
    this.#buckets = [];
    this.#current = { start: this.#current.start, entries: [] };
    for (const bucket of buckets) {
      for (const entry of bucket.entries) {
        const reject = entry.reject;
        if (reject === undefined) continue;
        entry.reject = undefined;
        this.#live--;
        reject(entry.onError === undefined ? error : entry.onError(error));
      }
    }
  }

  /** Stops the timer; the wheel starts again with the next command. */
  dispose(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    // Nothing is pending when this runs from a tick; after failAll nothing is either.
    if (this.#live === 0) {
      this.#buckets = [];
      this.#current = { start: 0, entries: [] };
    }
  }
}
