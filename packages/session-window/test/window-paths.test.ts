import { describeEachDriver } from '@lix/driver-matrix';
import type { ArchiveStore } from '@lix/archive';
import type { Clock, KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HybridConversationCache, sessionKeys, type HybridConversationCacheOptions } from '../src/index.js';
import { createTestArchive, type TestArchive } from './archive.js';
import { countingDriver, instrumentedArchive } from './doubles.js';

const contents = (messages: { content: string }[]) => messages.map((message) => message.content);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

function manualClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

describeEachDriver("the window's read, write and repair paths", (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let tracked: ReturnType<typeof instrumentedArchive>;
  let archive: ArchiveStore;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = await createTestArchive();
    tracked = instrumentedArchive(store.archive);
    archive = tracked.archive;
    keyPrefix = uniquePrefix('swp');
  });
  afterEach(async () => {
    await store.close();
  });

  const cache = (sessionId: string, options: Partial<HybridConversationCacheOptions> = {}) =>
    new HybridConversationCache({ sessionId, driver, archive, keyPrefix, hotWindowSize: 5, ...options });

  it('serves getContext in the steady state with one Redis call and no archive call at all', async () => {
    const counting = countingDriver(driver);
    const session = cache('steady', { driver: counting.driver });
    for (let i = 1; i <= 7; i++) await session.addMessage('user', `m${i}`);
    await session.getContext();
    for (let read = 0; read < 20; read++) {
      counting.reset();
      tracked.reset();
      expect(contents(await session.getContext())).toEqual(range(3, 7).map((i) => `m${i}`));
      expect(counting.total()).toBe(1);
      expect(Object.fromEntries(tracked.calls)).toEqual({});
    }
    // A new instance of the same session in the same process shares what it knows.
    counting.reset();
    tracked.reset();
    await cache('steady', { driver: counting.driver }).getContext();
    expect(Object.fromEntries(tracked.calls)).toEqual({});
  });

  it('costs addMessage one archive append and one Redis call, with no archive read', async () => {
    const counting = countingDriver(driver);
    const session = cache('one-write', { driver: counting.driver });
    await session.addMessage('user', 'warm');
    for (let i = 0; i < 5; i++) {
      counting.reset();
      tracked.reset();
      await session.addMessage('user', `m${i}`);
      expect(Object.fromEntries(tracked.calls)).toEqual({ appendTurns: 1 });
      expect(counting.total()).toBe(1);
    }
  });

  it('stores 50 concurrent addMessage calls of one session in two archive writes (group commit), each with its own seq', async () => {
    const session = cache('group');
    const seqs = await Promise.all(range(1, 50).map((i) => session.addMessage('user', `g${i}`)));
    // The first call's write is in flight when the other 49 arrive: they share the next one.
    expect(tracked.calls.get('appendTurns')).toBe(2);
    expect([...seqs].sort((a, b) => a - b)).toEqual(range(1, 50));
    const full = await session.getFull();
    const bySeq = new Map(full.map((message) => [message.seq, message.content]));
    seqs.forEach((seq, index) => expect(bySeq.get(seq)).toBe(`g${index + 1}`));
    expect(contents(await session.getContext())).toEqual(range(46, 50).map((seq) => bySeq.get(seq)));
    expect(await session.getStats()).toMatchObject({ archiveWrites: 2, groupedMessages: 50 });
  });

  it('acknowledges only once the archive holds the message, and never makes another session wait', async () => {
    const held = cache('held');
    const free = cache('free');
    const gate = tracked.hold('held');
    let heldAcked = false;
    const pending = held.addMessage('user', 'waits').then((seq) => {
      heldAcked = true;
      return seq;
    });
    await gate.reached;
    // Another session's write completes while this one's archive write is still held.
    expect(await free.addMessage('user', 'goes first')).toBe(1);
    expect(heldAcked).toBe(false);
    expect(await store.archive.loadAll('held')).toEqual([]);
    gate.release();
    expect(await pending).toBe(1);
    expect(contents(await held.getContext())).toEqual(['waits']);
  });

  it('re-hydrates a cold session once for 20 concurrent readers on 5 instances, reading only the window', async () => {
    const writer = cache('cold');
    await archive.appendTurns(
      'cold',
      range(1, 60).map((i) => ({ role: 'user', content: `c${i}` })),
    );
    const keys = sessionKeys(keyPrefix, 'cold');
    await driver.del([keys.hot, keys.activity]);
    tracked.reset();
    const readers = range(1, 5).map(() => cache('cold'));
    const windows = await Promise.all(range(0, 19).map((i) => readers[i % 5]!.getContext()));
    for (const window of windows) expect(contents(window)).toEqual(range(56, 60).map((i) => `c${i}`));
    expect(tracked.calls.get('loadRecent')).toBe(1);
    expect(tracked.calls.get('loadAll')).toBeUndefined();
    expect((await writer.getStats()).rebuilds).toBe(1);
    expect(writer.counters()).toMatchObject({ rebuilds: 1, archiveChecks: 1 });
    expect(await driver.llen(keys.hot)).toBe(5);
  });

  it('fills a short gap behind a window that looks complete with loadAfter, once the interval has passed', async () => {
    const clock = manualClock();
    const session = cache('gap', { clock });
    for (let i = 1; i <= 6; i++) await session.addMessage('user', `m${i}`);
    // Stored behind the window's back, as by a writer killed before its push.
    await store.archive.appendTurns('gap', [
      { role: 'user', content: 'm7' },
      { role: 'user', content: 'm8' },
    ]);
    expect(contents(await session.getContext())).toEqual(range(2, 6).map((i) => `m${i}`));
    clock.advance(session.verifyIntervalMs);
    tracked.reset();
    expect(contents(await session.getContext())).toEqual(range(4, 8).map((i) => `m${i}`));
    expect(Object.fromEntries(tracked.calls)).toEqual({ getMetadata: 1, loadAfter: 1 });
    tracked.reset();
    expect(contents(await session.getContext())).toEqual(range(4, 8).map((i) => `m${i}`));
    expect(Object.fromEntries(tracked.calls)).toEqual({});
  });

  it('re-checks an idle, confirmed window with one O(1) metadata read per interval', async () => {
    const clock = manualClock();
    const session = cache('interval', { clock });
    for (let i = 1; i <= 3; i++) await session.addMessage('user', `m${i}`);
    for (let round = 0; round < 3; round++) {
      clock.advance(session.verifyIntervalMs);
      tracked.reset();
      for (let read = 0; read < 5; read++) expect(contents(await session.getContext())).toEqual(['m1', 'm2', 'm3']);
      expect(Object.fromEntries(tracked.calls)).toEqual({ getMetadata: 1 });
    }
  });

  it('renews the confirmation of a window being read in the background, before it expires', async () => {
    const clock = manualClock();
    const session = cache('renew', { clock });
    for (let i = 1; i <= 3; i++) await session.addMessage('user', `m${i}`);
    clock.advance(session.verifyIntervalMs * 0.8);
    tracked.reset();
    // Still confirmed: served from Redis at once, with one metadata read started behind it.
    expect(contents(await session.getContext())).toEqual(['m1', 'm2', 'm3']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Object.fromEntries(tracked.calls)).toEqual({ getMetadata: 1 });
    // Past the first confirmation's expiry, but within the renewed one: no archive call.
    clock.advance(session.verifyIntervalMs * 0.5);
    tracked.reset();
    expect(contents(await session.getContext())).toEqual(['m1', 'm2', 'm3']);
    expect(Object.fromEntries(tracked.calls)).toEqual({});
  });

  it('repairs on the next read when a background renewal finds the archive ahead of the window', async () => {
    const clock = manualClock();
    const session = cache('renew-ahead', { clock });
    for (let i = 1; i <= 6; i++) await session.addMessage('user', `m${i}`);
    // Stored behind the window's back, as by a writer killed before its push.
    await store.archive.appendTurns('renew-ahead', [{ role: 'user', content: 'm7' }]);
    clock.advance(session.verifyIntervalMs * 0.8);
    expect(contents(await session.getContext())).toEqual(range(2, 6).map((i) => `m${i}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Well within the interval, the renewal's finding is enough to repair.
    expect(contents(await session.getContext())).toEqual(range(3, 7).map((i) => `m${i}`));
  });

  it('leaves an unchanged window on the server: a read sends its length and last record and gets a marker back', async () => {
    const replies: unknown[] = [];
    const watching = new Proxy(driver, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property !== 'eval' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: unknown[]) => {
          const reply = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if ((args[0] as { name?: string }).name === 'session-window.read-if-changed') replies.push(reply);
          return reply;
        };
      },
    });
    const long = 'x'.repeat(5000);
    for (const [name, last] of [
      ['unchanged-short', 'm7'],
      ['unchanged-long', long],
    ] as const) {
      replies.length = 0;
      const session = cache(name, { driver: watching });
      for (let i = 1; i <= 6; i++) await session.addMessage('user', `m${i}`);
      await session.addMessage('user', last);
      const expected = [...range(3, 6).map((i) => `m${i}`), last];
      expect(contents(await session.getContext())).toEqual(expected);
      for (let read = 0; read < 5; read++) expect(contents(await session.getContext())).toEqual(expected);
      expect(replies).toEqual([1, 1, 1, 1, 1]);
      // Each read returns objects of its own.
      const [first, second] = [await session.getContext(), await session.getContext()];
      expect(first).toEqual(second);
      expect(first[0]).not.toBe(second[0]);
      first[0]!.content = 'changed by the caller';
      expect(contents(await session.getContext())).toEqual(expected);
    }
  });

  it('serves what another process pushed, and a last record rewritten behind the window at the same length', async () => {
    for (const [name, size] of [
      ['changed-short', 2],
      ['changed-long', 5000],
    ] as const) {
      const session = cache(name);
      // Another process: its own view of the archive, so its own state for the session.
      const elsewhere = new HybridConversationCache({
        sessionId: name,
        driver,
        archive: instrumentedArchive(store.archive).archive,
        keyPrefix,
        hotWindowSize: 5,
      });
      const body = (i: number) => `m${i}`.padEnd(size, '.');
      for (let i = 1; i <= 7; i++) await session.addMessage('user', body(i));
      expect(contents(await session.getContext())).toEqual(range(3, 7).map(body));
      expect(contents(await session.getContext())).toEqual(range(3, 7).map(body));
      await elsewhere.addMessage('user', body(8));
      expect(contents(await session.getContext())).toEqual(range(4, 8).map(body));
      // Same length, same seq, other bytes in the last record: read again, not served from the copy.
      const hot = sessionKeys(keyPrefix, name).hot;
      const records = await driver.lrange(hot, 0, -1);
      const rewritten = Uint8Array.from(records[records.length - 1]!);
      rewritten[rewritten.length - 1] = '#'.charCodeAt(0);
      await driver.del([hot]);
      await driver.rpush(hot, [...records.slice(0, -1), rewritten]);
      const served = contents(await session.getContext());
      expect(served.slice(0, -1)).toEqual(range(4, 7).map(body));
      expect(served.at(-1)).toBe(`${body(8).slice(0, -1)}#`);
    }
  });

  it('serves every concurrent read a whole, current window while another process appends', async () => {
    const session = cache('racing');
    const elsewhere = new HybridConversationCache({
      sessionId: 'racing',
      driver,
      archive: instrumentedArchive(store.archive).archive,
      keyPrefix,
      hotWindowSize: 5,
    });
    for (let i = 1; i <= 5; i++) await session.addMessage('user', `m${i}`);
    await session.getContext();
    let acked = 5;
    const writer = (async () => {
      for (let i = 6; i <= 40; i++) acked = Math.max(acked, await elsewhere.addMessage('user', `m${i}`));
    })();
    const reads: Promise<void>[] = [];
    for (let round = 0; round < 40; round++) {
      const floor = acked;
      reads.push(
        session.getContext().then((window) => {
          const seqs = window.map((message) => message.seq);
          expect(seqs).toEqual(range(seqs[0]!, seqs[0]! + 4));
          expect(seqs.at(-1)).toBeGreaterThanOrEqual(floor);
          expect(contents(window)).toEqual(seqs.map((seq) => `m${seq}`));
        }),
      );
      if (round % 4 === 3) await Promise.all(reads.splice(0));
    }
    await writer;
    await Promise.all(reads);
    expect(contents(await session.getContext())).toEqual(range(36, 40).map((i) => `m${i}`));
  });

  it('serves an empty session from Redis alone once the archive said it is empty', async () => {
    const session = cache('empty');
    expect(await session.getContext()).toEqual([]);
    tracked.reset();
    expect(await session.getContext()).toEqual([]);
    expect(Object.fromEntries(tracked.calls)).toEqual({});
  });
});
