import { getEventListeners } from 'node:events';
import { ArchiveError, type AppendOptions, type ArchiveStore, type ArchiveTurnInput } from '@lix/archive';
import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HybridConversationCache, isSessionWindowError } from '../src/index.js';
import { createTestArchive, type TestArchive } from './archive.js';

/**
 * A real archive whose appends wait at a gate first, as an append waits for another
 * writer's session lock, and give up there when their signal aborts (as the stores do).
 */
function gatedArchive(archive: ArchiveStore) {
  const waiting: { release(): void; turns: number }[] = [];
  let open = false;
  const gated = new Proxy(archive, {
    get(target, property, receiver) {
      if (property !== 'appendTurns') {
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (sessionId: string, turns: readonly ArchiveTurnInput[], options?: AppendOptions) => {
        if (!open) {
          await new Promise<void>((resolve, reject) => {
            const signal = options?.signal;
            const onAbort = () => reject(new ArchiveError('ABORTED', 'gave up waiting for the lock', { cause: signal!.reason }));
            signal?.addEventListener('abort', onAbort, { once: true });
            waiting.push({
              turns: turns.length,
              release: () => {
                signal?.removeEventListener('abort', onAbort);
                resolve();
              },
            });
          });
        }
        return target.appendTurns(sessionId, turns, options);
      };
    },
  });
  return {
    archive: gated,
    /** Appends waiting at the gate now (their turn counts). */
    waiting: () => waiting.map((entry) => entry.turns),
    /** Lets the oldest waiting append through. */
    releaseOne: () => waiting.shift()?.release(),
    /** Lets every append through, now and later. */
    openAll: () => {
      open = true;
      for (const entry of waiting.splice(0)) entry.release();
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const contents = (messages: { content: string }[]) => messages.map((message) => message.content);

describeEachDriver('addMessage with an AbortSignal', (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let gate: ReturnType<typeof gatedArchive>;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = await createTestArchive();
    gate = gatedArchive(store.archive);
    keyPrefix = uniquePrefix('swa');
  });
  afterEach(async () => {
    gate.openAll();
    await store.close();
  });

  const cache = (sessionId: string) => new HybridConversationCache({ sessionId, driver, archive: gate.archive, keyPrefix, hotWindowSize: 5 });
  const aborted = (error: unknown) => isSessionWindowError(error, 'ABORTED');

  it('rejects an already aborted call with ABORTED and stores nothing', async () => {
    gate.openAll();
    const session = cache('pre-aborted');
    const controller = new AbortController();
    controller.abort(new Error('user left'));
    const error = await session.addMessage({ role: 'user', content: 'never' }, { signal: controller.signal }).catch((e: unknown) => e);
    expect(aborted(error)).toBe(true);
    expect((error as Error).cause).toBe(controller.signal.reason);
    await expect(session.addMessages([{ role: 'user', content: 'never' }], { signal: controller.signal })).rejects.toSatisfy(aborted);
    expect(await session.getFull()).toEqual([]);
    expect(await session.addMessage('user', 'first')).toBe(1);
  });

  it('takes a call queued behind the write in flight out of the queue: ABORTED, nothing stored, no listener left', async () => {
    const session = cache('queued');
    const first = session.addMessage('user', 'first');
    await settle();
    expect(gate.waiting()).toEqual([1]);
    const controller = new AbortController();
    const second = session.addMessage({ role: 'user', content: 'second' }, { signal: controller.signal });
    const batch = session.addMessages(
      [
        { role: 'user', content: 'batch a' },
        { role: 'assistant', content: 'batch b' },
      ],
      { signal: controller.signal },
    );
    const third = session.addMessage('user', 'third');
    controller.abort();
    await expect(second).rejects.toSatisfy(aborted);
    await expect(batch).rejects.toSatisfy(aborted);
    gate.openAll();
    expect(await first).toBe(1);
    expect(await third).toBe(2);
    expect(contents(await session.getFull())).toEqual(['first', 'third']);
    expect(contents(await session.getContext())).toEqual(['first', 'third']);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it("gives up a lone message's archive write waiting for the lock, and maps the archive's ABORTED", async () => {
    const session = cache('lock-wait');
    const controller = new AbortController();
    const call = session.addMessage({ role: 'user', content: 'waits' }, { signal: controller.signal });
    await settle();
    expect(gate.waiting()).toEqual([1]);
    controller.abort(new Error('timeout'));
    const error = await call.catch((e: unknown) => e);
    expect(aborted(error)).toBe(true);
    expect((error as Error).cause).toBe(controller.signal.reason);
    gate.openAll();
    expect(await session.getFull()).toEqual([]);
    expect(await session.addMessage('user', 'next')).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('gives up a group write only once every caller in it has aborted', async () => {
    const session = cache('group');
    const first = session.addMessage('user', 'first');
    await settle();
    const a = new AbortController();
    const b = new AbortController();
    const callA = session.addMessage({ role: 'user', content: 'a' }, { signal: a.signal });
    const callB = session.addMessage({ role: 'user', content: 'b' }, { signal: b.signal });
    gate.releaseOne();
    expect(await first).toBe(1);
    await settle();
    // a and b now wait in the archive as one write.
    expect(gate.waiting()).toEqual([2]);
    a.abort();
    await settle();
    expect(gate.waiting()).toEqual([2]);
    b.abort();
    await expect(callA).rejects.toSatisfy(aborted);
    await expect(callB).rejects.toSatisfy(aborted);
    gate.openAll();
    expect(contents(await session.getFull())).toEqual(['first']);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0);
  });

  it('stores and acknowledges a message whose signal aborted after its write had the lock, or while others of its write still wait', async () => {
    const session = cache('late-abort');
    const first = session.addMessage('user', 'first');
    await settle();
    const a = new AbortController();
    const callA = session.addMessage({ role: 'user', content: 'a' }, { signal: a.signal });
    const callB = session.addMessage('user', 'b');
    gate.releaseOne();
    await first;
    await settle();
    expect(gate.waiting()).toEqual([2]);
    // b has no signal: the write goes on, and a, being stored, resolves with its seq.
    a.abort();
    gate.openAll();
    expect(await callA).toBe(2);
    expect(await callB).toBe(3);
    expect(contents(await session.getFull())).toEqual(['first', 'a', 'b']);
  });

  it('rejects bad options with INVALID_ARGUMENT, naming the key', async () => {
    gate.openAll();
    const session = cache('bad-options');
    const message = { role: 'user', content: 'x' };
    await expect(session.addMessage(message, { signl: new AbortController().signal } as never)).rejects.toThrow(/unknown key "signl"/);
    await expect(session.addMessage(message, { signal: { aborted: false } } as never)).rejects.toThrow(/signal must be an AbortSignal/);
    await expect(session.addMessage(message, null as never)).rejects.toSatisfy((e: unknown) => isSessionWindowError(e, 'INVALID_ARGUMENT'));
    await expect(session.addMessages([message], 'fast' as never)).rejects.toSatisfy((e: unknown) => isSessionWindowError(e, 'INVALID_ARGUMENT'));
    await expect(session.addMessage(message, 'content' as never)).rejects.toThrow(/either one message object/);
    expect(await session.getFull()).toEqual([]);
    expect(await session.addMessage(message, {})).toBe(1);
    expect(await session.addMessage(message, { signal: undefined })).toBe(2);
  });
});
