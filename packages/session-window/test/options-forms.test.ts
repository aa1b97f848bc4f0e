import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { HybridConversationCache, isSessionWindowError } from '../src/index.js';
import { createTestArchive, type TestArchive } from './archive.js';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return isSessionWindowError(error) ? error.code : `not a SessionWindowError: ${String(error)}`;
}

describeEachDriver('HybridConversationCache options-object forms', (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = await createTestArchive();
    keyPrefix = uniquePrefix('swo');
  });
  afterEach(async () => {
    await store.close();
  });

  it('addMessage({ role, content, metadata, embedding }) stores what the positional form stores', async () => {
    const session = new HybridConversationCache({ sessionId: 's-object', driver, archive: store.archive, keyPrefix });
    expect(await session.addMessage({ role: 'user', content: 'as an object', metadata: { lang: 'en' }, embedding: [1, 0] })).toBe(1);
    expect(await session.addMessage('assistant', 'positional', { lang: 'en' }, [0, 1])).toBe(2);
    const full = await session.getFull();
    expect(full.map((message) => [message.role, message.content, message.metadata])).toEqual([
      ['user', 'as an object', { lang: 'en' }],
      ['assistant', 'positional', { lang: 'en' }],
    ]);
    expect(Array.from(full[0]!.embedding ?? [])).toEqual([1, 0]);
  });

  it('refuses an unknown key, a mix of both forms, and a message that is not an object, storing nothing', async () => {
    const session = new HybridConversationCache({ sessionId: 's-object-bad', driver, archive: store.archive, keyPrefix });
    expect(await codeOf(session.addMessage({ role: 'user', content: 'x', metdata: {} } as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.addMessage({ role: 'user', content: 'x' } as never, 'both' as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.addMessage({ role: 'user' } as never))).toBe('INVALID_CONTENT');
    expect(await codeOf(session.addMessage(Object.create(Array.prototype) as never))).toBe('INVALID_ARGUMENT');
    expect(await session.getFull()).toEqual([]);
  });

  it('smartContext({ query, recentK, diskK }) answers like the positional form', async () => {
    const session = new HybridConversationCache({ sessionId: 's-smart', driver, archive: store.archive, keyPrefix, hotWindowSize: 3 });
    for (const content of ['apples are red', 'the sky is blue', 'bananas are yellow', 'grass is green', 'snow is white', 'coal is black']) {
      await session.addMessage('user', content);
    }
    const positional = await session.smartContext('bananas', null, 2, 1);
    const object = await session.smartContext({ query: 'bananas', recentK: 2, diskK: 1 });
    expect(object).toEqual(positional);
    expect(object.recent.map((message) => message.content)).toEqual(['snow is white', 'coal is black']);
    expect(object.relevant.map((message) => message.content)).toEqual(['bananas are yellow']);
    expect(await codeOf(session.smartContext({ query: 'x', recentk: 2 } as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.smartContext({ query: 'x' } as never, null as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.smartContext({ query: 'x', recentK: -1 }))).toBe('INVALID_ARGUMENT');
  });
});
