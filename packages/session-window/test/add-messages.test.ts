import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HybridConversationCache, isSessionWindowError, type NewMessage } from '../src/index.js';
import { createTestArchive, type TestArchive } from './archive.js';
import { countingDriver, instrumentedArchive, MemoryArchive } from './doubles.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const batch = (from: number, to: number): NewMessage[] => range(from, to).map((i) => ({ role: i % 2 ? 'user' : 'assistant', content: `message ${i}` }));

describeEachDriver('HybridConversationCache.addMessages', (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = await createTestArchive();
    keyPrefix = uniquePrefix('swb');
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores a batch with one archive write and one round trip and returns each seq in order', async () => {
    const counting = countingDriver(driver);
    const archive = instrumentedArchive(store.archive);
    const session = new HybridConversationCache({ sessionId: 's-batch', driver: counting.driver, archive: archive.archive, keyPrefix, hotWindowSize: 4 });
    expect(await session.addMessage('user', 'first')).toBe(1);
    await session.getContext();
    archive.reset();
    counting.reset();
    const seqs = await session.addMessages([
      { role: 'user', content: 'a', metadata: { n: 1 } },
      { role: 'assistant', content: 'b', embedding: [0.5, 0.25] },
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'd' },
      { role: 'user', content: 'e' },
    ]);
    expect(seqs).toEqual([2, 3, 4, 5, 6]);
    expect(archive.calls.get('appendTurns')).toBe(1);
    expect(Object.fromEntries(counting.counts)).toEqual({ eval: 1 });
    const window = await session.getContext();
    expect(window.map((m) => [m.seq, m.content])).toEqual([
      [3, 'b'],
      [4, 'c'],
      [5, 'd'],
      [6, 'e'],
    ]);
    const full = await session.getFull();
    expect(full.map((m) => m.content)).toEqual(['first', 'a', 'b', 'c', 'd', 'e']);
    expect(full[1]!.metadata).toEqual({ n: 1 });
  });

  it('stores none of a batch when one message is invalid, and names its index and code', async () => {
    const archive = instrumentedArchive(store.archive);
    const session = new HybridConversationCache({ sessionId: 's-bad', driver, archive: archive.archive, keyPrefix });
    const messages: NewMessage[] = [...batch(1, 3), { role: 'user', content: '' }, ...batch(5, 6)];
    const error = await session.addMessages(messages).catch((caught: unknown) => caught);
    expect(isSessionWindowError(error, 'INVALID_CONTENT')).toBe(true);
    expect((error as Error).message).toContain('messages[3]');
    expect(archive.calls.get('appendTurns')).toBeUndefined();
    expect(await session.getFull()).toEqual([]);
  });

  it('rejects a non-array, a non-object entry and an unknown key with INVALID_ARGUMENT', async () => {
    const session = new HybridConversationCache({ sessionId: 's-shape', driver, archive: store.archive, keyPrefix });
    for (const bad of ['nope', [null], [{ role: 'user', content: 'x', colour: 'red' }]]) {
      const error = await session.addMessages(bad as unknown as NewMessage[]).catch((caught: unknown) => caught);
      expect(isSessionWindowError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(await session.getFull()).toEqual([]);
  });

  it('returns [] for an empty batch without touching the archive or Redis', async () => {
    const counting = countingDriver(driver);
    const archive = instrumentedArchive(store.archive);
    const session = new HybridConversationCache({ sessionId: 's-empty', driver: counting.driver, archive: archive.archive, keyPrefix });
    expect(await session.addMessages([])).toEqual([]);
    expect(archive.calls.size).toBe(0);
    expect(counting.total()).toBe(0);
  });

  it('splits a batch above 256 messages into two writes, in order, losing none', async () => {
    const archive = instrumentedArchive(store.archive);
    const session = new HybridConversationCache({ sessionId: 's-big', driver, archive: archive.archive, keyPrefix, hotWindowSize: 10 });
    expect(await session.addMessages(batch(1, 300))).toEqual(range(1, 300));
    expect(archive.calls.get('appendTurns')).toBe(2);
    expect((await session.getContext()).map((m) => m.seq)).toEqual(range(291, 300));
    expect((await session.getFull()).map((m) => m.content)).toEqual(range(1, 300).map((i) => `message ${i}`));
  });

  it('keeps a batch contiguous among concurrent addMessage calls', async () => {
    const session = new HybridConversationCache({ sessionId: 's-mixed', driver, archive: store.archive, keyPrefix, hotWindowSize: 50 });
    const singles = range(1, 20).map((i) => session.addMessage('user', `single ${i}`));
    const batched = session.addMessages(range(1, 10).map((i) => ({ role: 'assistant', content: `batched ${i}` })));
    const more = range(21, 30).map((i) => session.addMessage('user', `single ${i}`));
    const [singleSeqs, batchSeqs, moreSeqs] = await Promise.all([Promise.all(singles), batched, Promise.all(more)]);
    expect(batchSeqs).toEqual(range(batchSeqs[0]!, batchSeqs[0]! + 9));
    expect(new Set([...singleSeqs, ...batchSeqs, ...moreSeqs]).size).toBe(40);
    const window = await session.getContext();
    expect(window.map((m) => m.seq)).toEqual(range(1, 40));
    expect(window.filter((m) => m.content.startsWith('batched')).map((m) => m.content)).toEqual(range(1, 10).map((i) => `batched ${i}`));
  });

  it('rejects the whole batch with ARCHIVE_FAILED when the archive write fails, storing none', async () => {
    const memory = new MemoryArchive();
    const session = new HybridConversationCache({ sessionId: 's-fail', driver, archive: memory, keyPrefix });
    memory.failAppends = true;
    const error = await session.addMessages(batch(1, 4)).catch((caught: unknown) => caught);
    expect(isSessionWindowError(error, 'ARCHIVE_FAILED')).toBe(true);
    memory.failAppends = false;
    expect(await session.getFull()).toEqual([]);
    expect(await session.addMessages(batch(1, 2))).toEqual([1, 2]);
  });
});
