/** Rejects with this when a cache call took longer than its budget. */
export class CacheTimeoutError extends Error {
  override name = 'CacheTimeoutError';
}

/**
 * `promise`, or a rejection once `ms` have passed. The timer is unref'd and cleared, and
 * a late rejection of `promise` is swallowed, so a hung backend neither keeps the
 * process alive nor surfaces as an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CacheTimeoutError(`${what} took longer than ${ms} ms`)), ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
