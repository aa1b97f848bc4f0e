import { showValue } from '@lix/core';
import { KVError, type Logger } from '@lix/redis-pool';
import { SemanticCacheError, backendError } from './errors.js';
import { BackendErrorCounter } from './stats.js';

/**
 * What a cache does when its KV backend fails (connection lost, timeout, cluster down,
 * an OOM reply, …):
 *
 * - `'miss'` (default): a read is a miss and a write is skipped; the failure is logged
 *   and counted in `getStats().backendErrors`. The cache is never why a request fails.
 * - `'throw'`: the call rejects with `SemanticCacheError` code `BACKEND_ERROR`, the
 *   `KVError` as its `cause` (counted all the same).
 */
export type BackendErrorPolicy = 'miss' | 'throw';

/** Used when neither the option nor the driver says how long a command may take. */
export const DEFAULT_BACKEND_TIMEOUT_MS = 5000;

/** Longest accepted `backendTimeoutMs` (one hour). */
const MAX_BACKEND_TIMEOUT_MS = 3_600_000;

/** Validates `onBackendError`. */
export function checkBackendErrorPolicy(value: unknown): BackendErrorPolicy {
  if (value === undefined) return 'miss';
  if (value === 'miss' || value === 'throw') return value;
  throw new SemanticCacheError('INVALID_OPTION', `onBackendError must be 'miss' or 'throw', got ${describeValue(value)}.`);
}

/** Validates `backendTimeoutMs`, defaulting to the driver's own command timeout. */
export function checkBackendTimeout(value: unknown, driverTimeoutMs: unknown): number {
  if (value === undefined) {
    return typeof driverTimeoutMs === 'number' && Number.isInteger(driverTimeoutMs) && driverTimeoutMs > 0 && driverTimeoutMs <= MAX_BACKEND_TIMEOUT_MS
      ? driverTimeoutMs
      : DEFAULT_BACKEND_TIMEOUT_MS;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_BACKEND_TIMEOUT_MS) {
    throw new SemanticCacheError(
      'INVALID_OPTION',
      `backendTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_BACKEND_TIMEOUT_MS}, got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** A value for an error message (the kernel's: strings quoted, never throws). */
export const describeValue = showValue;

/**
 * Rejects options objects with keys the class does not know: a misspelt option would
 * otherwise be ignored without a word.
 */
export function checkOptionKeys(options: object, known: readonly string[], owner: string): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new SemanticCacheError('INVALID_OPTION', `${owner} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}.`);
    }
  }
}

/** The error a caller gets in `'throw'` mode, and the code a failure is counted under. */
function codeOf(error: unknown): string {
  if (error instanceof KVError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'UNKNOWN';
}

/**
 * Runs the driver calls of one cache instance: bounds each call by a deadline shared by
 * every command of one cache operation (a lookup's GET and HGET together never wait
 * longer than `timeoutMs`), and turns failures into misses or rejections by the policy.
 *
 * Why a deadline of our own when the drivers time commands out already: the first
 * connection attempt is bounded by the connect timeout instead, a custom driver may have
 * no timeout at all, and an operation of several commands would add theirs up.
 */
export class BackendGuard {
  readonly policy: BackendErrorPolicy;
  readonly timeoutMs: number;
  readonly counter = new BackendErrorCounter();
  readonly #label: string;
  readonly #logger: Logger | undefined;
  /** True from a failure until the next success: only the first failure of an outage is a warning. */
  #failing = false;

  constructor(label: string, policy: BackendErrorPolicy, timeoutMs: number, logger: Logger | undefined) {
    this.#label = label;
    this.policy = policy;
    this.timeoutMs = timeoutMs;
    this.#logger = logger;
  }

  /** The deadline (epoch ms) of an operation starting now. */
  deadline(): number {
    return Date.now() + this.timeoutMs;
  }

  /** Runs one driver call, rejecting with `TIMEOUT` once `deadline` has passed. */
  call<T>(deadline: number, operation: string, run: () => Promise<T>): Promise<T> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.reject(this.#timeout(operation));
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      // A driver that throws instead of rejecting fails the same way.
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The command may still settle later; nobody is waiting for it any more.
        pending.catch(() => undefined);
        reject(this.#timeout(operation));
      }, remaining);
      timer.unref?.();
      pending.then(
        (value) => {
          clearTimeout(timer);
          if (this.#failing) {
            this.#failing = false;
            this.#logger?.warn?.(`${this.#label}: backend answers again`, { operation });
          }
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #timeout(operation: string): KVError {
    return new KVError('TIMEOUT', `${this.#label}: ${operation} got no answer from the backend within ${this.timeoutMs} ms`);
  }

  /**
   * Handles a failed driver call: counts and logs it, then returns (the caller treats it
   * as a miss or a skipped write) or throws, by the policy. Errors that are not backend
   * failures (an argument the driver refused: a bug to surface) always throw.
   */
  failed(operation: string, error: unknown): void {
    if (error instanceof SemanticCacheError) throw error;
    if (error instanceof KVError && error.code === 'INVALID_ARGUMENT') throw backendError(operation, error);
    const code = codeOf(error);
    this.counter.record(code);
    const context = { operation, code, error: error instanceof Error ? error.message : describeValue(error) };
    if (this.policy === 'throw') {
      this.#logger?.debug?.(`${this.#label}: backend failure`, context);
      throw backendError(operation, error);
    }
    if (this.#failing) {
      this.#logger?.debug?.(`${this.#label}: backend failure, treated as a miss`, context);
    } else {
      this.#failing = true;
      this.#logger?.warn?.(`${this.#label}: backend failure, treated as a miss until it answers again`, context);
    }
  }
}
