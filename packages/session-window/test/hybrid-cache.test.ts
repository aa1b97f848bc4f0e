import { describeEachDriver } from '@lix/driver-matrix';
import type { Clock, KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HybridConversationCache, IdleEvictor, SessionContextWindow, sessionKeys, type HybridConversationCacheOptions } from '../src/index.js';
import type { ArchiveStore } from '@lix/archive';
import { createTestArchive, type TestArchive } from './archive.js';
import { countingDriver, switchableDriver } from './doubles.js';

const contents = (messages: { content: string }[]) => messages.map((message) => message.content);
const seqs = (messages: { seq: number }[]) => messages.map((message) => message.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

function manualClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

describeEachDriver('HybridConversationCache', (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let archive: ArchiveStore;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = await createTestArchive();
    archive = store.archive;
    keyPrefix = uniquePrefix('sw');
  });
  afterEach(async () => {
    await store.close();
  });

  const cache = (sessionId: string, options: Partial<HybridConversationCacheOptions> = {}) =>
    new HybridConversationCache({ sessionId, driver, archive, keyPrefix, ...options });

  it('returns the window oldest first with seqs 1, 2, 3 as ids', async () => {
    const session = cache('s-basic');
    expect(await session.getContext()).toEqual([]);
    expect(await session.addMessage('user', 'hello', { lang: 'en' })).toBe(1);
    expect(await session.addMessage('assistant', 'hi there')).toBe(2);
    expect(await session.addMessage('user', 'how are you?')).toBe(3);
    const window = await session.getContext();
    expect(seqs(window)).toEqual([1, 2, 3]);
    expect(window.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hello'],
      ['assistant', 'hi there'],
      ['user', 'how are you?'],
    ]);
    expect(window[0]!.metadata).toEqual({ lang: 'en' });
    expect(window[1]!.metadata).toEqual({});
  });

  it('keeps the last 5 of 23 messages hot and all 23 in getFull, in order', async () => {
    const session = cache('s-overflow', { hotWindowSize: 5 });
    for (let i = 1; i <= 23; i++) await session.addMessage(i % 2 ? 'user' : 'assistant', `message ${i}`);
    expect(contents(await session.getContext())).toEqual(range(19, 23).map((i) => `message ${i}`));
    const full = await session.getFull();
    expect(contents(full)).toEqual(range(1, 23).map((i) => `message ${i}`));
    expect(seqs(full)).toEqual(range(1, 23));
    const stats = await session.getStats();
    expect(stats).toMatchObject({ hotMessages: 5, archivedMessages: 23, lastSeq: 23, hotWindowSize: 5 });
  });

  it('costs one round trip for addMessage (with overflow) and one for getContext (with TTL refresh)', async () => {
    const counting = countingDriver(driver);
    const session = new HybridConversationCache({ sessionId: 's-rtt', driver: counting.driver, archive, keyPrefix, hotWindowSize: 3 });
    for (let i = 1; i <= 4; i++) await session.addMessage('user', `warm ${i}`);
    await session.getContext();
    for (let i = 5; i <= 8; i++) {
      counting.reset();
      await session.addMessage('user', `steady ${i}`);
      expect(Object.fromEntries(counting.counts)).toEqual({ eval: 1 });
      counting.reset();
      expect(contents(await session.getContext())).toEqual(range(i - 2, i).map((n) => (n <= 4 ? `warm ${n}` : `steady ${n}`)));
      // One call: the conditional read (the window changed, so its reply carries the list).
      expect(counting.total()).toBe(1);
    }
  });

  it('gives 200 concurrent addMessage calls unique ordered ids and loses none', async () => {
    const session = cache('s-concurrent');
    const ids = await Promise.all(range(1, 200).map((i) => session.addMessage('user', `c${i}`)));
    expect([...ids].sort((a, b) => a - b)).toEqual(range(1, 200));
    const full = await session.getFull();
    expect(seqs(full)).toEqual(range(1, 200));
    // Each call's content got the seq its call resolved with.
    const bySeq = new Map(full.map((message) => [message.seq, message.content]));
    ids.forEach((id, index) => expect(bySeq.get(id)).toBe(`c${index + 1}`));
    const window = await session.getContext();
    expect(seqs(window)).toEqual(range(181, 200));
    expect(contents(window)).toEqual(range(181, 200).map((seq) => bySeq.get(seq)));
  });

  it('keeps exact sequences with two workers writing to the same and to different sessions', async () => {
    const other = await target.createDriver();
    const workerA = new HybridConversationCache({ sessionId: 'shared', driver, archive, keyPrefix, hotWindowSize: 10 });
    const workerB = new HybridConversationCache({ sessionId: 'shared', driver: other, archive, keyPrefix, hotWindowSize: 10 });
    const ownA = new HybridConversationCache({ sessionId: 'own-a', driver, archive, keyPrefix, hotWindowSize: 10 });
    const ownB = new HybridConversationCache({ sessionId: 'own-b', driver: other, archive, keyPrefix, hotWindowSize: 10 });
    const write = async (worker: HybridConversationCache, own: HybridConversationCache, name: string) => {
      const acked: [number, string][] = [];
      for (let i = 0; i < 30; i++) {
        const [shared] = await Promise.all([worker.addMessage('user', `${name}-${i}`), own.addMessage('user', `${name}-own-${i}`)]);
        acked.push([shared, `${name}-${i}`]);
      }
      return acked;
    };
    const [ackedA, ackedB] = await Promise.all([write(workerA, ownA, 'A'), write(workerB, ownB, 'B')]);
    const full = await workerA.getFull();
    expect(seqs(full)).toEqual(range(1, 60));
    const expected = new Map([...ackedA, ...ackedB]);
    expect(full.map((message) => message.content)).toEqual(range(1, 60).map((seq) => expected.get(seq)));
    // Each writer's own messages appear in the order it wrote them.
    expect(contents(full).filter((c) => c.startsWith('A-'))).toEqual(range(0, 29).map((i) => `A-${i}`));
    const tail = range(51, 60).map((seq) => expected.get(seq));
    expect(contents(await workerA.getContext())).toEqual(tail);
    expect(contents(await workerB.getContext())).toEqual(tail);
    expect(contents(await ownA.getContext())).toEqual(range(20, 29).map((i) => `A-own-${i}`));
    expect(contents(await ownB.getFull())).toEqual(range(0, 29).map((i) => `B-own-${i}`));
  });

  it('acknowledges writes from the archive during an outage and serves the exact window after it', async () => {
    const outage = switchableDriver(driver);
    const session = new HybridConversationCache({ sessionId: 's-outage', driver: outage.driver, archive, keyPrefix, hotWindowSize: 5 });
    for (let i = 1; i <= 7; i++) await session.addMessage('user', `m${i}`);
    outage.setDown(true);
    for (let i = 8; i <= 10; i++) expect(await session.addMessage('user', `m${i}`)).toBe(i);
    expect(contents(await session.getContext())).toEqual(['m6', 'm7', 'm8', 'm9', 'm10']);
    expect((await session.getStats()).redisAvailable).toBe(false);
    outage.setDown(false);
    // Redis still holds the stale window (m3..m7); the read notices and repairs it.
    expect(contents(await session.getContext())).toEqual(['m6', 'm7', 'm8', 'm9', 'm10']);
    expect(contents(await session.getFull())).toEqual(range(1, 10).map((i) => `m${i}`));
    await session.addMessage('user', 'm11');
    expect(contents(await session.getContext())).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
  });

  it('re-hydrates the exact window after Redis lost the keys (crash or expiry)', async () => {
    const session = cache('s-lost', { hotWindowSize: 4 });
    for (let i = 1; i <= 9; i++) await session.addMessage('user', `m${i}`);
    const keys = sessionKeys(keyPrefix, 's-lost');
    expect(await driver.del([keys.hot, keys.activity])).toBe(2);
    expect(contents(await session.getContext())).toEqual(['m6', 'm7', 'm8', 'm9']);
    expect(await driver.llen(keys.hot)).toBe(4);
    await driver.del([keys.hot, keys.activity]);
    // A write into an emptied window rebuilds it rather than starting a 1-message window.
    await session.addMessage('user', 'm10');
    expect(contents(await session.getContext())).toEqual(['m7', 'm8', 'm9', 'm10']);
  });

  it('evicts an idle session once with two evictors racing and re-hydrates it on the next read', async () => {
    const clock = manualClock();
    const other = await target.createDriver();
    const idle = cache('s-idle', { clock, hotWindowSize: 3 });
    const active = cache('s-active', { clock, hotWindowSize: 3 });
    for (let i = 1; i <= 5; i++) await idle.addMessage('user', `idle ${i}`);
    await active.addMessage('user', 'active 1');
    clock.advance(2 * 3_600_000 - 1000);
    await active.getContext();
    clock.advance(2000);
    const evictors = [driver, other].map((d) => new IdleEvictor({ driver: d, archive, keyPrefix, clock }));
    const passes = await Promise.all(evictors.map((evictor) => evictor.runOnce()));
    expect(passes.reduce((sum, pass) => sum + pass.evicted, 0)).toBe(1);
    // An evictor scanning after the other's claim sees only the active session.
    for (const pass of passes) expect([1, 2]).toContain(pass.scanned);
    const idleKeys = sessionKeys(keyPrefix, 's-idle');
    expect(await driver.exists(idleKeys.hot)).toBe(false);
    expect(await driver.exists(idleKeys.activity)).toBe(false);
    expect(await driver.exists(sessionKeys(keyPrefix, 's-active').hot)).toBe(true);
    expect((await Promise.all(evictors.map((evictor) => evictor.runOnce()))).map((pass) => pass.evicted)).toEqual([0, 0]);
    expect(contents(await idle.getContext())).toEqual(['idle 3', 'idle 4', 'idle 5']);
    expect(await driver.llen(idleKeys.hot)).toBe(3);
    await Promise.all(evictors.map((evictor) => evictor.stop()));
  });

  it('never returns more tokens than sessionMaxTokens, dropping the oldest messages', async () => {
    const session = cache('s-budget', { sessionMaxTokens: 10, countTokens: (text) => text.length });
    await session.addMessage('user', 'aaaa');
    await session.addMessage('assistant', 'bbb');
    await session.addMessage('user', 'ccccc');
    expect(contents(await session.getContext())).toEqual(['bbb', 'ccccc']);
    await session.addMessage('user', 'x'.repeat(11));
    expect(await session.getContext()).toEqual([]);
    const defaultCounter = cache('s-budget-default', { sessionMaxTokens: 3 });
    await defaultCounter.addMessage('user', '12345678');
    await defaultCounter.addMessage('user', '1234');
    expect(contents(await defaultCounter.getContext())).toEqual(['12345678', '1234']);
    await defaultCounter.addMessage('user', '1234567890123');
    expect(contents(await defaultCounter.getContext())).toEqual([]);
  });

  it('starts a new window after deleteSession and serves smart context without repeats', async () => {
    const session = cache('s-smart', { hotWindowSize: 4 });
    const topics = ['tokyo weather is sunny', 'paris has museums', 'tokyo sushi is great', 'berlin techno', 'rome pasta', 'oslo fjords'];
    for (const [index, topic] of topics.entries()) {
      const vector = new Float32Array(6);
      vector[index] = 1;
      if (topic.startsWith('tokyo')) vector[0] = 1;
      await session.addMessage('user', topic, { index }, vector);
    }
    const text = await session.smartContext('tokyo', null, 2, 3);
    expect(contents(text.recent)).toEqual(['rome pasta', 'oslo fjords']);
    expect(contents(text.relevant).sort()).toEqual(['tokyo sushi is great', 'tokyo weather is sunny']);
    const byVector = await session.smartContext('', [1, 0, 0, 0, 0, 0], 4, 1);
    expect(contents(byVector.recent)).toEqual(topics.slice(2));
    expect(contents(byVector.relevant)).toEqual(['tokyo weather is sunny']);
    expect(byVector.relevant[0]!.score).toBeGreaterThan(0.5);
    expect(await session.getFormattedContext(2)).toBe('user: rome pasta\nuser: oslo fjords');
    const full = await session.getFull();
    expect(Array.from(full[1]!.embedding!)).toEqual([0, 1, 0, 0, 0, 0]);

    await session.deleteSession();
    expect(await session.getFull()).toEqual([]);
    expect(await session.getContext()).toEqual([]);
    expect(await session.addMessage('user', 'fresh start')).toBe(1);
    expect(contents(await session.getContext())).toEqual(['fresh start']);
  });

  it('frees Redis on flushToDisk and clear and re-hydrates from the archive', async () => {
    const window = new SessionContextWindow({ sessionId: 's-flush', driver, archive, keyPrefix, hotWindowSize: 3 });
    for (let i = 1; i <= 4; i++) await window.addMessage('user', `m${i}`);
    const keys = sessionKeys(keyPrefix, 's-flush');
    expect(await window.flushToDisk()).toBe(true);
    expect(await driver.exists(keys.hot)).toBe(false);
    expect(await window.flushToDisk()).toBe(false);
    expect(contents(await window.getContext())).toEqual(['m2', 'm3', 'm4']);
    expect(await window.clear()).toBe(true);
    expect(await driver.exists(keys.activity)).toBe(false);
    expect(contents(await window.getFullHistory())).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(contents(await window.getContext())).toEqual(['m2', 'm3', 'm4']);
    expect(await window.getStats()).toMatchObject({ sessionId: 's-flush', hotMessages: 3, archivedMessages: 4, sessionTtlMs: 86_400_000 });
  });

  it("follows the archive deleted behind the window's back within verifyIntervalMs, and at once with 0", async () => {
    const clock = manualClock();
    const session = cache('s-reset', { hotWindowSize: 3, clock });
    for (let i = 1; i <= 4; i++) await session.addMessage('user', `old ${i}`);
    await archive.deleteSession('s-reset');
    // Confirmed by the last write less than verifyIntervalMs ago: served from Redis alone.
    expect(contents(await session.getContext())).toEqual(['old 2', 'old 3', 'old 4']);
    clock.advance(session.verifyIntervalMs);
    expect(await session.getContext()).toEqual([]);
    const strict = cache('s-reset-strict', { hotWindowSize: 3, verifyIntervalMs: 0 });
    await strict.addMessage('user', 'gone');
    await archive.deleteSession('s-reset-strict');
    expect(await strict.getContext()).toEqual([]);
    for (let i = 1; i <= 4; i++) await session.addMessage('user', `old ${i}`);
    await archive.deleteSession('s-reset');
    // Redis still holds old 2..4; seq 1 of the new history replaces them.
    expect(await session.addMessage('user', 'new 1')).toBe(1);
    expect(contents(await session.getContext())).toEqual(['new 1']);
  });

  it('serves recentK beyond the hot window from the archive', async () => {
    const session = cache('s-deep', { hotWindowSize: 2 });
    for (let i = 1; i <= 6; i++) await session.addMessage('user', `d${i}`);
    const { recent, relevant } = await session.smartContext('d1', null, 4, 2);
    expect(contents(recent)).toEqual(['d3', 'd4', 'd5', 'd6']);
    expect(relevant.every((m) => !['d3', 'd4', 'd5', 'd6'].includes(m.content))).toBe(true);
  });

  it('keeps every session key in one cluster slot even for ids with braces', async () => {
    const session = cache('{user}:{42}', { hotWindowSize: 2 });
    for (let i = 1; i <= 3; i++) await session.addMessage('user', `b${i}`);
    expect(contents(await session.getContext())).toEqual(['b2', 'b3']);
    const keys = sessionKeys(keyPrefix, '{user}:{42}');
    expect(keys.hot.match(/\{[^}]*\}/)![0]).toBe(keys.activity.match(/\{[^}]*\}/)![0]);
  });
});
