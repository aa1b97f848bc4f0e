import { KVError } from '../shared/errors.js';
import { classifyRedisError } from './error-mapping.js';

/**
 * Decides, before a command is sent, whether it may go out now, must wait for the
 * connection attempt in progress, or must fail at once.
 *
 * Why: with offline queues disabled (so commands never pile up while Redis is away) the
 * client libraries reject anything sent before the first connection is ready. The gate
 * lets the first commands wait for that attempt (bounded by the connect timeout), and
 * once an attempt has failed or an established connection dropped, it fails every
 * command immediately with `CONNECTION_LOST` until the client is ready again. Callers
 * such as the session layer can then fall back to disk without waiting.
 */
export class ConnectionGate {
  #ready = false;
  #down: unknown = undefined;
  #isDown = false;
  #waiters: { resolve: () => void; reject: (error: KVError) => void }[] = [];
  readonly #label: string;
  readonly #connectTimeoutMs: number;

  constructor(label: string, connectTimeoutMs: number) {
    this.#label = label;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** True while commands go straight out. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The client reported ready: release waiters, stop failing fast. */
  markReady(): void {
    this.#ready = true;
    this.#isDown = false;
    this.#down = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** A connection attempt failed or the connection dropped. */
  markDown(cause: unknown): void {
    this.#ready = false;
    this.#isDown = true;
    this.#down = cause;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(this.#lostError());
  }

  /** A new attempt starts but nothing is known to be down (first connect). */
  markConnecting(): void {
    this.#ready = false;
  }

  /** Fails everything waiting (used by close). */
  fail(error: KVError): void {
    this.#ready = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  #lostError(): KVError {
    const reason = this.#down instanceof Error ? `: ${this.#down.message}` : '';
    // A rejected password must say so: the caller has to fix its config, not wait for Redis.
    if (classifyRedisError(this.#down) === 'AUTH_FAILED') {
      return new KVError('AUTH_FAILED', `${this.#label}: Redis rejected the credentials${reason}`, { cause: this.#down });
    }
    return new KVError('CONNECTION_LOST', `${this.#label}: Redis is not reachable${reason}`, { cause: this.#down });
  }

  /** `undefined` when a command may be sent now; otherwise a promise to await first. */
  check(): Promise<void> | undefined {
    if (this.#ready) return undefined;
    if (this.#isDown) return Promise.reject(this.#lostError());
    return this.wait();
  }

  /** Waits for the next ready or failure, at most the connect timeout. */
  wait(): Promise<void> {
    if (this.#ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: KVError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((other) => other !== waiter);
        reject(new KVError('CONNECTION_LOST', `${this.#label}: no connection within ${this.#connectTimeoutMs} ms`));
      }, this.#connectTimeoutMs);
      timer.unref();
      this.#waiters.push(waiter);
    });
  }
}
