/**
 * Deduplicates concurrent work by key: while a computation for `key` is in flight,
 * every other caller of {@link SingleFlight.do} with the same key waits for it instead
 * of starting its own. Nothing is remembered once it settles, so a failure is seen by
 * the callers that were waiting for it and the next call tries again.
 */
export class SingleFlight<T = unknown> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /**
   * Runs `fn` unless a call for `key` is already running, in which case it returns
   * that call's promise. Errors reach every waiter and are not cached.
   */
  do(key: string, fn: () => Promise<T> | T): Promise<T> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    // Start `fn` only after the entry is registered: a synchronous `fn` would otherwise
    // settle, and remove its entry, before the entry exists, leaving it behind forever.
    const promise = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
      });
    this.#inFlight.set(key, promise);
    return promise;
  }

  /** True while a computation for `key` is running. */
  has(key: string): boolean {
    return this.#inFlight.has(key);
  }

  /** Number of keys being computed right now. */
  get size(): number {
    return this.#inFlight.size;
  }
}

/**
 * The "look up, else compute once and store" pattern on top of a {@link SingleFlight}:
 * `lookup` first; on a miss, `compute` runs once for all concurrent callers of the same
 * key, then `store` saves the result before anyone receives it. A value of `null` or
 * `undefined` from `lookup` is a miss.
 */
export async function getOrCompute<T>(
  flight: SingleFlight<T>,
  key: string,
  steps: {
    lookup: () => Promise<T | null | undefined>;
    compute: () => Promise<T> | T;
    store: (value: T) => Promise<unknown>;
  },
): Promise<T> {
  const cached = await steps.lookup();
  if (cached !== null && cached !== undefined) return cached;
  return flight.do(key, async () => {
    const value = await steps.compute();
    await steps.store(value);
    return value;
  });
}
