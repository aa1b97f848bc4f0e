import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as vitest from 'vitest';
import { describe, expect, it } from 'vitest';
import { runKVDriverConformance } from './conformance.js';
import type { Clock } from './driver.js';
import { isKVError } from './shared/errors.js';
import { MemoryServer, compileGlob, createMemoryDriver, createMemoryServer, formatArgNumber } from './memory.js';
import { defineScript } from './script.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

// Every driver of the run shares one server, so the closed-driver test's write is seen by the shared driver.
const suiteClock = manualClock();
const suiteServer = createMemoryServer({ clock: suiteClock });
runKVDriverConformance(vitest, {
  name: 'memory',
  createDriver: () => createMemoryDriver({ store: suiteServer }),
  advanceClock: (ms) => suiteClock.advance(ms),
});

// The same suite with the real clock and real sleeps, as a user's driver without a clock would run it.
runKVDriverConformance(vitest, {
  name: 'memory (system clock, sleeping)',
  createDriver: (() => {
    const server = createMemoryServer();
    return () => createMemoryDriver({ store: server });
  })(),
  groups: {
    ttl: true,
    scan: true,
    multiKey: true,
    strings: false,
    lists: false,
    hashes: false,
    sortedSets: false,
    counters: false,
    batch: false,
    scripts: false,
    binary: false,
  },
});

describe('memory driver: shared MemoryServer', () => {
  it('two drivers over one server see each other’s writes, like two clients of one Redis', async () => {
    const server = new MemoryServer();
    const worker1 = createMemoryDriver({ store: server });
    const worker2 = createMemoryDriver({ store: server });
    await worker1.set('k', bytes('from 1'));
    expect(await worker2.get('k')).toEqual(bytes('from 1'));
    await worker2.rpush('l', [bytes('a')]);
    expect(await worker1.llen('l')).toBe(1);
    await worker1.close();
    // Closing one client leaves the server and the other client working.
    expect(await worker2.get('k')).toEqual(bytes('from 1'));
    await expect(worker1.get('k')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    await worker2.close();
    server.close();
  });

  it('an atomic script twin is not interleaved with another driver’s commands', async () => {
    const server = new MemoryServer();
    const a = createMemoryDriver({ store: server });
    const b = createMemoryDriver({ store: server });
    const claim = defineScript({
      name: 'claim',
      lua: "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end redis.call('SET', KEYS[1], ARGV[1]) return 1",
      memory: (store, keys, args) => {
        if (store.exists(keys[0]!)) return 0;
        store.set(keys[0]!, args[0]!);
        return 1;
      },
    });
    const results = await Promise.all([a.eval(claim, ['lock'], ['a']), b.eval(claim, ['lock'], ['b']), a.eval(claim, ['lock'], ['c'])]);
    expect(results.filter((r) => r === 1)).toHaveLength(1);
    server.close();
    await expect(b.ping()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('a clock is given to the server, not to a driver over it', () => {
    const server = new MemoryServer();
    expect(() => createMemoryDriver({ store: server, clock: manualClock() })).toThrowError(/one clock/);
    expect(() => createMemoryDriver({ store: server, clock: server.clock })).not.toThrow();
  });

  it('a private server is closed with its driver', async () => {
    const driver = createMemoryDriver();
    await driver.set('k', bytes('v'));
    await driver.close();
    await expect(driver.get('k')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});

describe('memory driver: expiry', () => {
  it('a key lives through its deadline millisecond and is gone one millisecond later, as in Redis', async () => {
    const clock = manualClock();
    const driver = createMemoryDriver({ clock });
    await driver.set('k', bytes('v'), { ttlMs: 100 });
    clock.advance(100);
    expect(await driver.pttl('k')).toBe(0);
    expect(await driver.exists('k')).toBe(true);
    clock.advance(1);
    expect(await driver.pttl('k')).toBe(-2);
    await driver.close();
  });

  it('writes reclaim expired keys nobody reads again, so memory stays bounded', async () => {
    const clock = manualClock();
    const server = new MemoryServer({ clock });
    const driver = createMemoryDriver({ store: server });
    for (let round = 0; round < 20; round += 1) {
      await driver.mset(
        Array.from({ length: 500 }, (_, i) => [`r${round}:${i}`, bytes('v')] as const),
        { ttlMs: 10 },
      );
      clock.advance(11);
    }
    // 10,000 keys were written, at most 500 are alive at any time; without reclaiming,
    // all 10,000 would still be held.
    expect(server.storedKeyCount).toBeLessThanOrEqual(2000);
    server.close();
  });

  it('the background sweep reclaims expired keys without any access, and stops when none have a TTL', async () => {
    const clock = manualClock();
    const server = new MemoryServer({ clock, sweepIntervalMs: 5, sweepBatchSize: 100 });
    const driver = createMemoryDriver({ store: server });
    await driver.mset(
      Array.from({ length: 300 }, (_, i) => [`k${i}`, bytes('v')] as const),
      { ttlMs: 10 },
    );
    await driver.set('keep', bytes('v'));
    clock.advance(11);
    const deadline = Date.now() + 5000;
    while (server.storedKeyCount > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.storedKeyCount).toBe(1);
    expect(await driver.get('keep')).toEqual(bytes('v'));
    server.close();
  });

  it('the sweep timer exists only while keys have a TTL and is gone after close()', async () => {
    const clock = manualClock();
    const server = new MemoryServer({ clock });
    const driver = createMemoryDriver({ store: server });
    expect(server.sweepScheduled).toBe(false);
    await driver.set('a', bytes('v'), { ttlMs: 1000 });
    await driver.set('b', bytes('v'), { ttlMs: 1000 });
    expect(server.sweepScheduled).toBe(true);
    await driver.del(['a']);
    expect(server.sweepScheduled).toBe(true);
    await driver.set('b', bytes('no ttl now'));
    expect(server.sweepScheduled).toBe(false);
    await driver.set('c', bytes('v'), { ttlMs: 1000 });
    expect(server.sweepScheduled).toBe(true);
    await driver.close();
    server.close();
    expect(server.sweepScheduled).toBe(false);
  });

  it('a process that never closes its memory driver still exits (the timer is unref()ed)', async () => {
    const memoryModule = fileURLToPath(new URL('./memory.ts', import.meta.url));
    const program = `import { createMemoryDriver } from ${JSON.stringify(memoryModule)};
      const kv = createMemoryDriver();
      await kv.set('k', new Uint8Array([1]), { ttlMs: 60000 });
      console.log('ready');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', '--input-type=module', '-e', program], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('ready');
  });

  it('sweep() inspects at most the keys it is allowed to', () => {
    const clock = manualClock();
    const server = new MemoryServer({ clock });
    for (let i = 0; i < 50; i += 1) server.set(`k${i}`, bytes('v'), { ttlMs: 1 });
    clock.advance(2);
    const before = server.storedKeyCount;
    const removed = server.sweep(10);
    expect(removed).toBeLessThanOrEqual(10);
    expect(server.storedKeyCount).toBe(before - removed);
    server.close();
  });
});

describe('memory driver: copies and validation', () => {
  it('a memory twin mutating bytes it read does not change the store', async () => {
    const driver = createMemoryDriver();
    await driver.set('k', bytes('abc'));
    const vandal = defineScript({
      name: 'vandal',
      lua: "return redis.call('GET', KEYS[1])",
      memory: (store, keys) => {
        store.get(keys[0]!)?.fill(0);
        return store.get(keys[0]!);
      },
    });
    expect(await driver.eval(vandal, ['k'], [])).toEqual(bytes('abc'));
    await driver.close();
  });

  it('script args given as bytes are copies the twin may not use to reach the caller’s array', async () => {
    const driver = createMemoryDriver();
    const arg = bytes('keep');
    const mutate = defineScript({
      name: 'mutate',
      lua: 'return 1',
      memory: (_store, _keys, args) => {
        args[0]!.fill(0);
        return 1;
      },
    });
    await driver.eval(mutate, [], [arg]);
    expect(arg).toEqual(bytes('keep'));
    await driver.close();
  });

  it('bad arguments reject with INVALID_ARGUMENT instead of corrupting the store', async () => {
    const driver = createMemoryDriver();
    const attempts = [
      () => driver.set('k', 'text' as unknown as Uint8Array),
      () => driver.set('k', bytes('v'), { ttlMs: 0 }),
      () => driver.set('k', bytes('v'), { ttlMs: 1.5 }),
      () => driver.incrBy('k', 0.5),
      () => driver.lrange('k', 0.5, 1),
      () => driver.zadd('z', [{ score: Number.NaN, member: 'm' }]),
      () => driver.rpush('l', []),
      () => driver.hset('h', {}),
    ];
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await driver.exists('k')).toBe(false);
    await driver.close();
  });

  it('a hash field named __proto__ is an ordinary field', async () => {
    const driver = createMemoryDriver();
    // JSON.parse is the way such an own property reaches real code (untrusted input).
    const fields = JSON.parse('{"__proto__": null, "plain": null}') as Record<string, Uint8Array>;
    // biome-ignore lint/suspicious/noProto: the own property named __proto__ is what this test is about.
    fields.__proto__ = bytes('x');
    fields.plain = bytes('y');
    expect(await driver.hset('h', fields)).toBe(2);
    const all = await driver.hgetall('h');
    expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
    expect(Object.keys(all).sort()).toEqual(['__proto__', 'plain']);
    expect(Object.getOwnPropertyDescriptor(all, '__proto__')?.value).toEqual(bytes('x'));
    await driver.close();
  });

  it('a batch cannot be executed twice', async () => {
    const driver = createMemoryDriver();
    const batch = driver.batch();
    void batch.set('k', bytes('v'));
    await batch.exec();
    const error = await batch.exec().catch((e: unknown) => e);
    expect(isKVError(error, 'INVALID_ARGUMENT')).toBe(true);
    await driver.close();
  });
});

describe('memory driver: helpers', () => {
  it('formatArgNumber writes integers in full and fractions in shortest round-trip form', () => {
    expect(formatArgNumber(1e21)).toBe('1000000000000000000000');
    expect(formatArgNumber(-0)).toBe('0');
    expect(formatArgNumber(0.1)).toBe('0.1');
    expect(formatArgNumber(1e-7)).toBe('1e-7');
    expect(Number(formatArgNumber(1 / 3))).toBe(1 / 3);
  });

  it('compileGlob follows Redis stringmatchlen edge cases', () => {
    const cases: [string, string, boolean][] = [
      ['a[', 'a', false],
      ['a[bc', 'ac', true],
      ['a[^', 'ax', true],
      ['a[]', 'a]', false],
      ['a\\', 'a\\', true],
      ['**b', 'aab', true],
      ['a*b*c', 'axxbyyc', true],
      ['a*b*c', 'axxbyy', false],
      ['[\\]]', ']', true],
      // As in Redis, "a-]" is a range from ']' to 'a' and the class stays open to the end.
      ['[a-]', '-', false],
      ['[a-]', '_', true],
      ['?', 'é', false],
      ['??', 'é', true],
    ];
    for (const [pattern, key, expected] of cases) expect(compileGlob(pattern).matches(key), `${pattern} vs ${key}`).toBe(expected);
  });
});

describe('MemoryServer with using', () => {
  it('closes the server when the block ends: its drivers then reject with CLIENT_CLOSED', async () => {
    let driver: ReturnType<typeof createMemoryDriver> | undefined;
    {
      using server = createMemoryServer();
      driver = createMemoryDriver({ store: server });
      await driver.set('k', new TextEncoder().encode('v'));
    }
    await expect(driver.get('k')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
