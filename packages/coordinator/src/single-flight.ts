/** What a {@link SingleFlight} computation receives. */
export interface FlightContext {
  /**
   * Aborted once every caller waiting for this computation has given up (each through its
   * own `signal`); a caller without a signal never gives up. Pass it on to `fetch`, the
   * model call, or whatever the computation waits for.
   */
  signal: AbortSignal;
}

/** Options of {@link SingleFlight.do} and {@link getOrCompute}. */
export interface FlightOptions {
  /** Stops this caller's wait: its promise rejects with `signal.reason`; the others keep theirs. */
  signal?: AbortSignal;
}

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  /** Callers still waiting that could give up; `Infinity` once one cannot. */
  abortable: number;
}

function abortedBy(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * Deduplicates concurrent work by key: while a computation for `key` is in flight,
 * every other caller of {@link SingleFlight.do} with the same key waits for it instead
 * of starting its own. Nothing is remembered once it settles, so a failure is seen by
 * the callers that were waiting for it and the next call tries again.
 */
export class SingleFlight<T = unknown> {
  readonly #inFlight = new Map<string, Flight<T>>();

  /**
   * Runs `fn` unless a call for `key` is already running, in which case it waits for
   * that call. Errors reach every waiter and are not cached. With a `signal`, this caller
   * stops waiting when it aborts (rejecting with `signal.reason`); `fn`'s own signal aborts
   * when every waiter has stopped.
   */
  do(key: string, fn: (context: FlightContext) => Promise<T> | T, options: FlightOptions = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortedBy(signal));
    let flight = this.#inFlight.get(key);
    // A computation every waiter gave up on is not joined: it is on its way to failing.
    if (flight === undefined || flight.controller.signal.aborted) {
      const controller = new AbortController();
      // Start `fn` only after the entry is registered: a synchronous `fn` would otherwise
      // settle, and remove its entry, before the entry exists, leaving it behind forever.
      const promise: Promise<T> = Promise.resolve()
        .then(() => fn({ signal: controller.signal }))
        .finally(() => {
          if (this.#inFlight.get(key)?.promise === promise) this.#inFlight.delete(key);
        });
      flight = { promise, controller, abortable: 0 };
      this.#inFlight.set(key, flight);
    }
    if (signal === undefined) {
      flight.abortable = Number.POSITIVE_INFINITY;
      return flight.promise;
    }
    return this.#waitUntilAborted(flight, signal);
  }

  #waitUntilAborted(flight: Flight<T>, signal: AbortSignal): Promise<T> {
    flight.abortable++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(abortedBy(signal));
        flight.abortable--;
        if (flight.abortable === 0) flight.controller.abort(abortedBy(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
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
 * `undefined` from `lookup` is a miss. A computation whose signal was aborted (every
 * waiter gave up) stores nothing.
 */
export async function getOrCompute<T>(
  flight: SingleFlight<T>,
  key: string,
  steps: {
    lookup: () => Promise<T | null | undefined>;
    compute: (context: FlightContext) => Promise<T> | T;
    store: (value: T) => Promise<unknown>;
  },
  options: FlightOptions = {},
): Promise<T> {
  if (options.signal?.aborted) throw abortedBy(options.signal);
  const cached = await steps.lookup();
  if (cached !== null && cached !== undefined) return cached;
  return flight.do(
    key,
    async (context) => {
      const value = await steps.compute(context);
      if (context.signal.aborted) throw abortedBy(context.signal);
      await steps.store(value);
      return value;
    },
    options,
  );
}
