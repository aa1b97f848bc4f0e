import { ArchiveError } from './errors.js';
import { snapshotOptions } from './validate.js';
import type { AppendOptions } from './store.js';

const APPEND_OPTION_KEYS: readonly (keyof AppendOptions)[] = ['signal'];

/**
 * Reads the options argument of `appendTurn`/`appendTurns`: `undefined` or a plain object
 * with only known keys (else `INVALID_ARGUMENT`, like every other options object of the
 * package), whose `signal` is absent or an `AbortSignal`.
 */
export function readAppendOptions(what: string, options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const { signal } = snapshotOptions<AppendOptions>(what, options, APPEND_OPTION_KEYS);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ArchiveError('INVALID_ARGUMENT', `${what} option signal must be an AbortSignal`);
  return signal;
}

/** The rejection of an aborted append: `ABORTED`, with the signal's reason as `cause`. */
export function abortedError(signal: AbortSignal): ArchiveError {
  return new ArchiveError('ABORTED', 'the append was aborted before it started writing; nothing was stored', { cause: signal.reason });
}

/** Throws {@link abortedError} when `signal` is aborted already. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * Settles like `pending`, unless `signal` aborts first: then it rejects with
 * {@link abortedError} at once, and a value `pending` produces later goes to `onLate` (to be
 * given back, e.g. a pooled connection). The listener is removed whichever comes first.
 */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal, onLate: (value: T) => void): Promise<T> {
  const late = (value: T) => {
    try {
      onLate(value);
    } catch {
      // giving back a late value is best effort; the caller was told ABORTED already
    }
  };
  if (signal.aborted) {
    pending.then(late, () => undefined);
    return Promise.reject(abortedError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      settled = true;
      reject(abortedError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        if (settled) return late(value);
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
