import { describe, expect, it } from 'vitest';
import { SingleFlight, getOrCompute } from './single-flight.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs one computation for concurrent calls with the same key', async () => {
    const flight = new SingleFlight<number>();
    const gate = deferred<number>();
    let calls = 0;
    const fn = () => {
      calls++;
      return gate.promise;
    };
    const waiters = Array.from({ length: 50 }, () => flight.do('k', fn));
    expect(flight.has('k')).toBe(true);
    gate.resolve(42);
    expect(await Promise.all(waiters)).toEqual(Array(50).fill(42));
    expect(calls).toBe(1);
    expect(flight.size).toBe(0);
  });

  it('runs different keys independently', async () => {
    const flight = new SingleFlight<string>();
    let calls = 0;
    const [a, b] = await Promise.all([
      flight.do('a', async () => {
        calls++;
        return 'A';
      }),
      flight.do('b', async () => {
        calls++;
        return 'B';
      }),
    ]);
    expect([a, b]).toEqual(['A', 'B']);
    expect(calls).toBe(2);
  });

  it('propagates an error to every waiter', async () => {
    const flight = new SingleFlight<number>();
    const gate = deferred<number>();
    const waiters = Array.from({ length: 5 }, () => flight.do('k', () => gate.promise));
    gate.reject(new Error('upstream down'));
    const results = await Promise.allSettled(waiters);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'upstream down')).toBe(true);
  });

  it('does not cache a failure: the next call computes again', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.do('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(flight.has('k')).toBe(false);
    await expect(flight.do('k', () => 7)).resolves.toBe(7);
  });

  it('turns a synchronous throw into a rejection for every waiter', async () => {
    const flight = new SingleFlight<number>();
    const first = flight.do('k', () => {
      throw new Error('sync');
    });
    await expect(first).rejects.toThrow('sync');
    expect(flight.size).toBe(0);
  });

  it('does not remember a success: a later call computes again', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    await flight.do('k', () => ++calls);
    await flight.do('k', () => ++calls);
    expect(calls).toBe(2);
  });
});

describe('getOrCompute', () => {
  it('returns a stored value without computing', async () => {
    let computed = 0;
    const value = await getOrCompute(new SingleFlight<string>(), 'q', {
      lookup: async () => 'cached',
      compute: () => {
        computed++;
        return 'fresh';
      },
      store: async () => {},
    });
    expect(value).toBe('cached');
    expect(computed).toBe(0);
  });

  it('computes once and stores once for concurrent misses', async () => {
    const flight = new SingleFlight<string>();
    const store = new Map<string, string>();
    const gate = deferred<void>();
    let computed = 0;
    let stored = 0;
    const steps = {
      lookup: async () => store.get('q') ?? null,
      compute: async () => {
        computed++;
        await gate.promise;
        return 'answer';
      },
      store: async (value: string) => {
        stored++;
        store.set('q', value);
      },
    };
    const waiters = Array.from({ length: 20 }, () => getOrCompute(flight, 'q', steps));
    await new Promise((resolve) => setImmediate(resolve));
    gate.resolve();
    expect(await Promise.all(waiters)).toEqual(Array(20).fill('answer'));
    expect(computed).toBe(1);
    expect(stored).toBe(1);
    expect(await getOrCompute(flight, 'q', steps)).toBe('answer');
    expect(computed).toBe(1);
  });

  it('propagates a compute error to every waiter and stores nothing', async () => {
    const flight = new SingleFlight<string>();
    let stored = 0;
    const steps = {
      lookup: async () => null,
      compute: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('model failed');
      },
      store: async () => {
        stored++;
      },
    };
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => getOrCompute(flight, 'q', steps)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(stored).toBe(0);
  });

  it('propagates a store error to every waiter', async () => {
    const flight = new SingleFlight<string>();
    const steps = {
      lookup: async () => null,
      compute: async () => 'x',
      store: async () => {
        throw new Error('redis down');
      },
    };
    const results = await Promise.allSettled([getOrCompute(flight, 'q', steps), getOrCompute(flight, 'q', steps)]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });
});

describe('SingleFlight with AbortSignal', () => {
  it('lets one waiter give up while the others keep the shared computation', async () => {
    const flight = new SingleFlight<string>();
    const gate = deferred<string>();
    let computeSignal: AbortSignal | undefined;
    const quitter = new AbortController();
    const fn = ({ signal }: { signal: AbortSignal }) => {
      computeSignal = signal;
      return gate.promise;
    };
    const patient = flight.do('k', fn);
    const leaving = flight.do('k', fn, { signal: quitter.signal });
    await Promise.resolve();
    quitter.abort(new Error('user navigated away'));
    await expect(leaving).rejects.toThrow('user navigated away');
    expect(computeSignal?.aborted).toBe(false);
    gate.resolve('done');
    expect(await patient).toBe('done');
  });

  it('aborts the computation once every waiter gave up, and a later caller starts afresh', async () => {
    const flight = new SingleFlight<string>();
    const first = new AbortController();
    const second = new AbortController();
    const signals: AbortSignal[] = [];
    const fn = ({ signal }: { signal: AbortSignal }) =>
      new Promise<string>((resolve, reject) => {
        signals.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason));
        if (signals.length > 1) resolve('fresh');
      });
    const a = flight.do('k', fn, { signal: first.signal });
    const b = flight.do('k', fn, { signal: second.signal });
    await Promise.resolve();
    first.abort(new Error('a left'));
    expect(signals[0]?.aborted).toBe(false);
    second.abort(new Error('b left'));
    await expect(a).rejects.toThrow('a left');
    await expect(b).rejects.toThrow('b left');
    expect(signals[0]?.aborted).toBe(true);
    expect(await flight.do('k', fn)).toBe('fresh');
    expect(signals).toHaveLength(2);
  });

  it('rejects at once with an already aborted signal, running nothing', async () => {
    const flight = new SingleFlight<string>();
    let calls = 0;
    const reason = new Error('too late');
    await expect(flight.do('k', () => String(++calls), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(calls).toBe(0);
    await expect(
      getOrCompute(flight, 'k', { lookup: async () => null, compute: () => 'x', store: async () => undefined }, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });

  it('getOrCompute stores nothing from a computation every caller abandoned', async () => {
    const flight = new SingleFlight<string>();
    const stored: string[] = [];
    const gate = deferred<string>();
    const controller = new AbortController();
    const call = getOrCompute(
      flight,
      'k',
      { lookup: async () => null, compute: () => gate.promise, store: async (value) => void stored.push(value) },
      { signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    gate.resolve('late answer');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stored).toEqual([]);
    expect(flight.size).toBe(0);
  });
});
