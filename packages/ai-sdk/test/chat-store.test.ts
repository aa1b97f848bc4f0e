import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import { describeEachDriver } from '@lix/driver-matrix';
import type { KVDriver } from '@lix/redis-pool';
import { uniquePrefix } from '@lix/test-utils';
import type { UIMessage } from 'ai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createChatStore, type ChatStore } from '../src/index.js';

const conversation: UIMessage[] = [
  { id: 'm1', role: 'user', parts: [{ type: 'text', text: 'What is the weather in Paris?' }], metadata: { createdAt: 1733000000000 } },
  {
    id: 'm2',
    role: 'assistant',
    metadata: { model: 'mock', tokens: { in: 12, out: 30 } },
    parts: [
      { type: 'step-start' },
      { type: 'reasoning', text: 'Need the weather tool.', state: 'done' },
      { type: 'tool-weather', toolCallId: 'call-1', state: 'output-available', input: { city: 'Paris' }, output: { celsius: 21, sky: 'clear' } },
      { type: 'text', text: 'It is 21 °C and clear in Paris.', state: 'done' },
      { type: 'source-url', sourceId: 's1', url: 'https://weather.example/paris', title: 'Weather' },
    ],
  },
];

describeEachDriver('createChatStore', (target) => {
  let driver: KVDriver;
  let dir: string;
  let archive: ConversationArchive;
  let store: ChatStore;
  beforeAll(async () => {
    driver = await target.createDriver();
    dir = mkdtempSync(join(tmpdir(), 'lix-ai-sdk-chat-'));
    archive = new ConversationArchive({ dir });
    store = createChatStore({ driver, archive, keyPrefix: uniquePrefix('chat'), hotWindowSize: 4 });
  });
  afterAll(async () => {
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads exactly the UI messages it saved: ids, parts and metadata', async () => {
    expect(await store.loadChat('chat-1')).toEqual([]);
    expect(await store.saveChat({ chatId: 'chat-1', messages: conversation })).toEqual({ appended: 2, reordered: false });
    expect(await store.loadChat('chat-1')).toEqual(conversation);
  });

  it('appends only the messages not stored yet', async () => {
    await store.saveChat({ chatId: 'chat-2', messages: conversation });
    const next: UIMessage[] = [...conversation, { id: 'm3', role: 'user', parts: [{ type: 'text', text: 'And tomorrow?' }] }];
    expect(await store.saveChat({ chatId: 'chat-2', messages: next })).toEqual({ appended: 1, reordered: false });
    expect(await store.saveChat({ chatId: 'chat-2', messages: next })).toEqual({ appended: 0, reordered: false });
    expect((await store.conversation('chat-2').getStats()).archivedMessages).toBe(3);
    expect(await store.loadChat('chat-2')).toEqual(next);
    // The session window holds the text of each message, for prompts and search.
    const window = await store.conversation('chat-2').getContext();
    expect(window.map((message) => message.content)).toEqual(['What is the weather in Paris?', 'It is 21 °C and clear in Paris.', 'And tomorrow?']);
  });

  it('keeps the latest version of a changed message and the order after a regenerate', async () => {
    await store.saveChat({ chatId: 'chat-3', messages: conversation });
    const regenerated: UIMessage[] = [conversation[0]!, { id: 'm2b', role: 'assistant', parts: [{ type: 'text', text: 'Sunny, 21 °C.' }] }];
    expect(await store.saveChat({ chatId: 'chat-3', messages: regenerated })).toEqual({ appended: 1, reordered: true });
    expect(await store.loadChat('chat-3')).toEqual(regenerated);
    const edited: UIMessage[] = [{ ...conversation[0]!, parts: [{ type: 'text', text: 'Weather in Lyon?' }] }, regenerated[1]!];
    expect(await store.saveChat({ chatId: 'chat-3', messages: edited })).toEqual({ appended: 1, reordered: false });
    expect(await store.loadChat('chat-3')).toEqual(edited);
  });

  it('serialises concurrent saves of one chat so no message is stored twice', async () => {
    const saves = await Promise.all([1, 2, 3].map(() => store.saveChat({ chatId: 'chat-4', messages: conversation })));
    expect(saves.map((save) => save.appended).sort()).toEqual([0, 0, 2]);
    expect((await store.conversation('chat-4').getStats()).archivedMessages).toBe(2);
  });

  it('rejects malformed input with INVALID_ARGUMENT and stores nothing', async () => {
    await expect(store.saveChat({ chatId: 'chat-5', messages: [{ role: 'user', parts: [] } as unknown as UIMessage] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(store.saveChat({ chatId: 'chat-5', messages: [conversation[0]!, conversation[0]!] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.saveChat({ chatId: '', messages: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Parts that are not parts (found by the stress sweep: a null part was a TypeError).
    for (const parts of [[null], [{ text: 'no type' }], [{ type: 'text', text: 42 }]]) {
      await expect(store.saveChat({ chatId: 'chat-5', messages: [{ id: 'p', role: 'user', parts } as unknown as UIMessage] })).rejects.toMatchObject({
        name: 'AiSdkCacheError',
        code: 'INVALID_ARGUMENT',
      });
    }
    await expect(store.saveChat({ chatId: 'chat-5', messages: [{ id: 'r', role: 10n, parts: [] } as unknown as UIMessage] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await store.loadChat('chat-5')).toEqual([]);
  });

  it('shows turns added to the session by plain addMessage as text UI messages', async () => {
    await store.conversation('chat-7').addMessage('user', 'Written by another layer');
    await store.saveChat({
      chatId: 'chat-7',
      messages: [{ id: 'lix-1', role: 'user', parts: [{ type: 'text', text: 'Written by another layer' }] }, conversation[1]!],
    });
    expect(await store.loadChat('chat-7')).toEqual([
      { id: 'lix-1', role: 'user', parts: [{ type: 'text', text: 'Written by another layer' }] },
      conversation[1],
    ]);
  });

  it('deletes a chat everywhere', async () => {
    await store.saveChat({ chatId: 'chat-6', messages: conversation });
    await store.deleteChat('chat-6');
    expect(await store.loadChat('chat-6')).toEqual([]);
  });
});
