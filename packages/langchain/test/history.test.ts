import { AIMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage, ChatMessage, trimMessages, type BaseMessage } from '@langchain/core/messages';
import type { ChatPromptValueInterface } from '@langchain/core/prompt_values';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableLambda, RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { describeEachDriver } from '@lix/driver-matrix';
import type { Clock, KVDriver } from '@lix/redis-pool';
import { IdleEvictor } from '@lix/session-window';
import { uniquePrefix } from '@lix/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LixChatMessageHistory, type LixChatMessageHistoryOptions } from '../src/index.js';
import { createTestArchive, instrumentedDriver, type TestArchive } from './doubles.js';

const dicts = (messages: BaseMessage[]) => messages.map((message) => message.toDict());
const kinds = (messages: BaseMessage[]) =>
  messages.map((message) => `${message.constructor.name}:${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`);

function manualClock(start = 1_800_000_000_000): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

/** One message of every type, with every field LangChain stores. */
function everyKind(): BaseMessage[] {
  return [
    new SystemMessage({ content: 'You are a travel agent.', id: 'sys-1', additional_kwargs: { cache_control: { type: 'ephemeral' } } }),
    new HumanMessage({
      content: 'Book me a flight to Kyoto.',
      id: 'h-1',
      name: 'ada',
      additional_kwargs: { locale: 'en-GB' },
      response_metadata: { source: 'web' },
    }),
    new AIMessage({
      content: '',
      id: 'ai-1',
      tool_calls: [{ id: 'call_1', name: 'search_flights', args: { to: 'KIX', passengers: 1, flexible: true }, type: 'tool_call' }],
      invalid_tool_calls: [{ id: 'call_2', name: 'bad', args: '{"to":', error: 'truncated JSON', type: 'invalid_tool_call' }],
      additional_kwargs: { refusal: null },
      response_metadata: { model_name: 'fake-1', finish_reason: 'tool_calls', logprobs: { content: [{ token: 'x', logprob: -0.25 }] } },
      usage_metadata: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
    }),
    new ToolMessage({
      content: '[{"flight":"JL 61","price":812.5}]',
      tool_call_id: 'call_1',
      id: 'tool-1',
      name: 'search_flights',
      status: 'success',
      artifact: { rows: 1 },
    }),
    new AIMessage({
      content: [
        { type: 'text', text: 'JL 61 costs ' },
        { type: 'text', text: '812.50.' },
      ],
      id: 'ai-2',
      response_metadata: { finish_reason: 'stop' },
    }),
    new HumanMessage({
      content: [
        { type: 'text', text: 'Is this the plane?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
      id: 'h-2',
    }),
    new ChatMessage({ content: 'Looks fine to me.', role: 'reviewer', id: 'c-1' }),
    new AIMessage({ content: 'Unicode survives: café, 東京, 🚄, and "quotes"\nacross lines.', id: 'ai-3' }),
  ];
}

describeEachDriver('LixChatMessageHistory', (target) => {
  let driver: KVDriver;
  let store: TestArchive;
  let keyPrefix: string;

  beforeEach(async () => {
    driver ??= await target.createDriver();
    store = createTestArchive();
    keyPrefix = uniquePrefix('lc');
  });
  afterEach(async () => {
    await store.close();
  });

  const history = (sessionId: string, options: Partial<LixChatMessageHistoryOptions> = {}) =>
    new LixChatMessageHistory({ sessionId, driver, archive: store.archive, keyPrefix, ...options });

  it('round-trips every message type and field one addMessage at a time (window and full history)', async () => {
    const messages = everyKind();
    const chat = history('s-each');
    for (const message of messages) await chat.addMessage(message);
    const window = await chat.getMessages();
    expect(kinds(window)).toEqual(kinds(messages));
    expect(dicts(window)).toEqual(dicts(messages));
    expect(dicts(await chat.getFullHistory())).toEqual(dicts(messages));
    const ai = window[2] as AIMessage;
    expect(ai).toBeInstanceOf(AIMessage);
    expect(ai.tool_calls).toEqual([{ id: 'call_1', name: 'search_flights', args: { to: 'KIX', passengers: 1, flexible: true }, type: 'tool_call' }]);
    expect(ai.usage_metadata).toEqual({ input_tokens: 12, output_tokens: 7, total_tokens: 19 });
    expect((window[3] as ToolMessage).tool_call_id).toBe('call_1');
    expect((window[3] as ToolMessage).artifact).toEqual({ rows: 1 });
  });

  it('round-trips every message type through addMessages, in order, with one archive append and one round trip for the batch', async () => {
    const messages = everyKind();
    const counting = instrumentedDriver(driver);
    const roundTrips = () => [...counting.counts.values()].reduce((sum, count) => sum + count, 0);
    const chat = new LixChatMessageHistory({ sessionId: 's-batch', driver: counting.driver, archive: store.archive, keyPrefix });
    await chat.addMessage(new HumanMessage('warm-up'));
    await chat.getMessages();
    const appendsBefore = store.appendCalls();
    counting.reset();
    await chat.addMessages(messages);
    expect(store.appendCalls() - appendsBefore).toBe(1);
    expect(roundTrips()).toBe(1);
    counting.reset();
    const window = await chat.getMessages();
    expect(dicts(window)).toEqual(dicts([new HumanMessage('warm-up'), ...messages]));
    // The window stayed hot through the batch: one round trip for the read.
    expect(roundTrips()).toBe(1);
  });

  it('serves the hot window by default and the whole history with source: full', async () => {
    const windowed = history('s-size', { hotWindowSize: 3 });
    const full = history('s-size', { hotWindowSize: 3, source: 'full' });
    const messages = Array.from({ length: 7 }, (_, i) => (i % 2 === 0 ? new HumanMessage(`question ${i}`) : new AIMessage(`answer ${i}`)));
    await windowed.addMessages(messages.slice(0, 4));
    for (const message of messages.slice(4)) await windowed.addMessage(message);
    expect(dicts(await windowed.getMessages())).toEqual(dicts(messages.slice(-3)));
    expect(dicts(await full.getMessages())).toEqual(dicts(messages));
  });

  it('keeps sessions apart: each history sees only its own messages', async () => {
    const alice = history('alice');
    const bob = history('bob');
    await Promise.all([
      alice.addMessages([new HumanMessage('alice 1'), new AIMessage('to alice 1')]),
      bob.addMessages([new HumanMessage('bob 1'), new AIMessage('to bob 1')]),
    ]);
    await Promise.all([alice.addMessage(new HumanMessage('alice 2')), bob.addMessage(new HumanMessage('bob 2'))]);
    expect(kinds(await alice.getMessages())).toEqual(['HumanMessage:alice 1', 'AIMessage:to alice 1', 'HumanMessage:alice 2']);
    expect(kinds(await bob.getMessages())).toEqual(['HumanMessage:bob 1', 'AIMessage:to bob 1', 'HumanMessage:bob 2']);
    await alice.clear();
    expect(await alice.getMessages()).toEqual([]);
    expect(kinds(await bob.getMessages())).toEqual(['HumanMessage:bob 1', 'AIMessage:to bob 1', 'HumanMessage:bob 2']);
  });

  it('survives idle eviction from Redis and re-hydrates the same messages from the archive', async () => {
    const clock = manualClock();
    const chat = history('s-evict', { clock, hotWindowSize: 5 });
    const messages = everyKind();
    await chat.addMessages(messages.slice(0, 4));
    await chat.addMessage(messages[4]!);
    await chat.addMessage(messages[5]!);
    const before = dicts(await chat.getMessages());
    expect((await chat.window.getStats()).hotMessages).toBe(5);
    clock.advance(3_600_000);
    const evictor = new IdleEvictor({ driver, keyPrefix, evictAfterMs: 60_000, clock });
    expect((await evictor.runOnce()).evicted).toBe(1);
    expect((await chat.window.getStats()).hotMessages).toBe(0);
    // A fresh instance (another worker) reads the evicted session.
    const again = history('s-evict', { clock, hotWindowSize: 5 });
    expect(dicts(await again.getMessages())).toEqual(before);
    expect((await again.window.getStats()).hotMessages).toBe(5);
    await again.addMessage(messages[6]!);
    expect(dicts(await chat.getMessages())).toEqual(dicts(messages.slice(2, 7)));
  });

  it('loses and duplicates nothing with two writers batching and appending to one session at once', async () => {
    const first = history('s-race', { hotWindowSize: 6 });
    const second = history('s-race', { hotWindowSize: 6 });
    const writer = async (chat: LixChatMessageHistory, name: string) => {
      for (let round = 0; round < 8; round++) {
        if (round % 2 === 0) await chat.addMessages([new HumanMessage(`${name} q${round}`), new AIMessage(`${name} a${round}`)]);
        else await chat.addMessage(new HumanMessage(`${name} single${round}`));
        await chat.getMessages();
      }
    };
    await Promise.all([writer(first, 'one'), writer(second, 'two')]);
    const full = await history('s-race', { source: 'full' }).getMessages();
    const texts = full.map((message) => String(message.content));
    expect(texts).toHaveLength(2 * (4 * 2 + 4));
    expect(new Set(texts).size).toBe(texts.length);
    for (const name of ['one', 'two']) {
      const own = texts.filter((text) => text.startsWith(`${name} `));
      expect(own).toEqual(
        [0, 1, 2, 3, 4, 5, 6, 7].flatMap((round) => (round % 2 === 0 ? [`${name} q${round}`, `${name} a${round}`] : [`${name} single${round}`])),
      );
    }
    // Both instances serve the same, current window: the tail of the archive.
    expect(dicts(await first.getMessages())).toEqual(dicts(full.slice(-6)));
    expect(dicts(await second.getMessages())).toEqual(dicts(full.slice(-6)));
  });

  it('clear() forgets the conversation everywhere, and the next history starts empty', async () => {
    const chat = history('s-clear');
    await chat.addMessages([new HumanMessage('secret 1'), new AIMessage('noted')]);
    await chat.addMessage(new HumanMessage('secret 2'));
    await chat.clear();
    expect(await chat.getMessages()).toEqual([]);
    expect(await chat.getFullHistory()).toEqual([]);
    await chat.addMessages([new HumanMessage('fresh 1'), new AIMessage('fresh 2')]);
    expect(kinds(await history('s-clear').getMessages())).toEqual(['HumanMessage:fresh 1', 'AIMessage:fresh 2']);
  });

  it('drives RunnableWithMessageHistory: the second turn sees the first, and both exchanges are stored', async () => {
    const seen: string[][] = [];
    const prompt = ChatPromptTemplate.fromMessages([['system', 'You are terse.'], new MessagesPlaceholder('history'), ['human', '{question}']]);
    const record = RunnableLambda.from((value: ChatPromptValueInterface) => {
      seen.push(value.toChatMessages().map((message) => `${message.getType()}:${String(message.content)}`));
      return value;
    });
    const model = new FakeListChatModel({ responses: ['Kyoto.', 'In spring.'] });
    const chain = new RunnableWithMessageHistory({
      runnable: prompt.pipe(record).pipe(model),
      getMessageHistory: (sessionId: string) => history(sessionId),
      inputMessagesKey: 'question',
      historyMessagesKey: 'history',
    });
    const config = { configurable: { sessionId: 'rwmh' } };
    expect((await chain.invoke({ question: 'Where should I go?' }, config)).content).toBe('Kyoto.');
    expect((await chain.invoke({ question: 'When?' }, config)).content).toBe('In spring.');
    expect(seen[1]).toEqual(['system:You are terse.', 'human:Where should I go?', 'ai:Kyoto.', 'human:When?']);
    expect(kinds(await history('rwmh', { source: 'full' }).getMessages())).toEqual([
      'HumanMessage:Where should I go?',
      'AIMessage:Kyoto.',
      'HumanMessage:When?',
      'AIMessage:In spring.',
    ]);
    expect(await history('other').getMessages()).toEqual([]);
  });

  it('feeds trimMessages: the stored messages trim like the originals, directly and as a runnable', async () => {
    const messages = [
      new SystemMessage('rules'),
      new HumanMessage('q1'),
      new AIMessage('a1'),
      new HumanMessage('q2'),
      new AIMessage({ content: '', tool_calls: [{ id: 't1', name: 'lookup', args: {}, type: 'tool_call' }] }),
      new ToolMessage({ content: 'r1', tool_call_id: 't1' }),
      new AIMessage('a2'),
      new HumanMessage('q3'),
    ];
    const chat = history('s-trim');
    await chat.addMessages(messages);
    const stored = await chat.getMessages();
    const options = {
      maxTokens: 5,
      tokenCounter: (list: BaseMessage[]) => list.length,
      strategy: 'last' as const,
      startOn: 'human' as const,
      includeSystem: true,
    };
    const trimmed = await trimMessages(stored, options);
    expect(dicts(trimmed)).toEqual(dicts(await trimMessages(messages, options)));
    expect(kinds(trimmed)).toEqual(['SystemMessage:rules', 'HumanMessage:q3']);
    const wider = { ...options, maxTokens: 7 };
    expect(kinds(await trimMessages(wider).invoke(stored))).toEqual([
      'SystemMessage:rules',
      'HumanMessage:q2',
      'AIMessage:',
      'ToolMessage:r1',
      'AIMessage:a2',
      'HumanMessage:q3',
    ]);
  });

  it('refuses what it cannot store losslessly with typed errors and stores nothing of a refused batch', async () => {
    const chat = history('s-bad', { maxMetadataBytes: 2048 });
    await expect(chat.addMessage({ content: 'not a message' } as never)).rejects.toMatchObject({ name: 'LixLangChainError', code: 'INVALID_MESSAGE' });
    await expect(chat.addMessage(new RemoveMessage({ id: 'x' }))).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(chat.addMessage(new HumanMessage({ content: 'hi', additional_kwargs: { at: new Date() } }))).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    await expect(chat.addMessage(new HumanMessage({ content: 'hi', additional_kwargs: { n: 10n } as never }))).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    await expect(chat.addMessage(new AIMessage({ content: 'hi', response_metadata: { parse: () => 1 } }))).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(chat.addMessage(new AIMessage({ content: 'hi', response_metadata: { latency: Number.NaN } }))).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    const big = new HumanMessage({ content: [{ type: 'text', text: 'x'.repeat(4096) }] });
    await expect(chat.addMessage(big)).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await expect(chat.addMessages([new HumanMessage('fine'), big])).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await expect(chat.addMessages([new HumanMessage('fine'), 'text' as never])).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(chat.addMessages([new HumanMessage('fine'), new ChatMessage({ content: 'x', role: 'r'.repeat(65) })])).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    expect(await chat.getFullHistory()).toEqual([]);
    expect(() => history('s-bad', { hotWindowSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => history('', {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => history('s-bad', { source: 'all' as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => history('s-bad', { source: cycle as never })).toThrow(expect.objectContaining({ name: 'LixLangChainError', code: 'INVALID_OPTION' }));
    expect(() => history('s-bad', { hotWindow: 3 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});
