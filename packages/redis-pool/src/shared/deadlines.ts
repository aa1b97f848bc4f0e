import { KVError } from './errors.js';

/** One command waiting for its reply (a class, not closures: allocated on the hot path). */
class PendingCommand {
  readonly deadline: number;
  readonly command: string;
  reject: ((error: unknown) => void) | undefined = undefined;
  onError: ((error: unknown) => unknown) | undefined = undefined;

  constructor(deadline: number, command: string) {
    this.deadline = deadline;
    this.command = command;
  }
}

/**
 * Fails commands that get no answer within a fixed time, with one unref()ed interval
 * timer instead of a timer per command (cheaper on the hot path).
 *
 * Why it exists: node-redis' per-command `timeout` only covers the time before the
 * command is written (and arms an AbortSignal per command); a command already sent to a
 * frozen server would wait forever. Entries are kept in insertion order, which is
 * deadline order because every command gets the same timeout, so a sweep stops at the
 * first live one.
 */
export class CommandDeadlines {
  readonly #timeoutMs: number;
  readonly #label: string;
  readonly #pending = new Set<PendingCommand>();
  #timer: NodeJS.Timeout | undefined;

  constructor(label: string, timeoutMs: number) {
    this.#label = label;
    this.#timeoutMs = timeoutMs;
  }

  /** Settles like `promise`, or rejects with `TIMEOUT` once the deadline passes first. */
  track<T>(promise: Promise<T>, command: string): Promise<T> {
    return this.trackMapped(promise, command, (reply) => reply as T, (error) => error);
  }

  /**
   * {@link track} with the reply converted by `onReply` and every failure (the deadline's
   * `TIMEOUT` included) mapped by `onError`, settled through one promise per command.
   */
  trackMapped<T>(promise: Promise<unknown>, command: string, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T> {
    const entry = new PendingCommand(Date.now() + this.#timeoutMs, command);
    this.#pending.add(entry);
    this.#timer ??= this.#start();
    // Inline anonymous callbacks only: named function expressions cost more per call
    // under some transpilers (esbuild keepNames wraps each one).
    return new Promise<T>((resolve, reject) => {
      entry.reject = reject;
      entry.onError = onError;
      promise.then(
        (reply) => {
          if (!this.#pending.delete(entry)) return;
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
          if (this.#pending.delete(entry)) reject(onError(error));
        },
      );
    });
  }

  #start(): NodeJS.Timeout {
    const timer = setInterval(() => this.#sweep(), Math.max(10, Math.floor(this.#timeoutMs / 10)));
    timer.unref();
    return timer;
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#pending) {
      if (entry.deadline > now) break;
      this.#pending.delete(entry);
      const error = new KVError('TIMEOUT', `${this.#label}: ${entry.command} got no answer within ${this.#timeoutMs} ms`);
      entry.reject?.(entry.onError === undefined ? error : entry.onError(error));
    }
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Rejects every command still waiting with `error` (mapped like a timeout). */
  failAll(error: KVError): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const entry of pending) entry.reject?.(entry.onError === undefined ? error : entry.onError(error));
  }

  /** Stops the timer (pending commands settle through their own promises). */
  dispose(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
