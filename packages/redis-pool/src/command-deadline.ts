import { KVError } from './errors.js';

interface Pending {
  deadline: number;
  reject(error: KVError): void;
}

/**
 * Fails commands that get no answer within a fixed time, with one unref()ed interval
 * timer instead of a timer per command (cheaper on the hot path).
 *
 * Why it exists: node-redis' per-command `timeout` only covers the time before the
 * command is written; a command already sent to a frozen server would wait forever.
 * Entries are kept in insertion order, which is deadline order because every command
 * gets the same timeout, so a sweep stops at the first live one.
 */
export class CommandDeadlines {
  readonly #timeoutMs: number;
  readonly #label: string;
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(label: string, timeoutMs: number) {
    this.#label = label;
    this.#timeoutMs = timeoutMs;
  }

  /** Settles like `promise`, or rejects with `TIMEOUT` once the deadline passes first. */
  track<T>(promise: Promise<T>, command: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        deadline: Date.now() + this.#timeoutMs,
        reject: (error) => reject(new KVError('TIMEOUT', `${this.#label}: ${command} got no answer within ${this.#timeoutMs} ms`, { cause: error })),
      };
      this.#pending.add(entry);
      this.#timer ??= this.#start();
      promise.then(
        (value) => {
          this.#pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(entry);
          reject(error);
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
      entry.reject(new KVError('TIMEOUT', 'command deadline passed'));
    }
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Stops the timer (pending commands settle through their own promises). */
  dispose(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
