/**
 * A LangChain.js chat on lix-cache, offline:
 *
 * - `RunnableWithMessageHistory` keeps each session's history in `LixChatMessageHistory`
 *   (hot window in Redis, whole history in the archive on disk);
 * - the chat model is built with `{ cache: new LixSemanticCache(...) }`, so a rephrased
 *   question is answered from the cache without calling the model;
 * - tool calls round-trip losslessly; an idle session leaves Redis and is re-hydrated.
 *
 * The model is LangChain's FakeListChatModel and the embeddings a demo bag of words, so
 * nothing needs a network or an API key. Without REDIS_URL it runs on the in-memory
 * driver; with REDIS_URL=redis://host:port it runs against that server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { ConversationArchive } from '@lix/archive';
import { LixChatMessageHistory, LixSemanticCache } from '@lix/langchain';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver } from '@lix/redis-pool/memory';
import { IdleEvictor } from '@lix/session-window';
import { DemoEmbeddings } from './demo-embeddings.js';

/** The fake model, counting the calls that reach it (a cache hit never does). */
class CountingChatModel extends FakeListChatModel {
  calls = 0;
  override async _generate(...args: Parameters<FakeListChatModel['_generate']>): Promise<ChatResult> {
    this.calls++;
    return super._generate(...args);
  }
}

/** A clock the demo moves forward, so "two idle hours" pass instantly. */
class DemoClock {
  #now = Date.now();
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

const line = (text = '') => console.log(text);
const show = (messages: BaseMessage[]) =>
  messages.map((message) => `${message.getType()}: ${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`).join(' | ');

const redisUrl = process.env.REDIS_URL;
const driver: KVDriver = redisUrl ? createIoredisDriver({ url: redisUrl }) : createMemoryDriver();
await driver.connect();
const archiveDir = mkdtempSync(join(tmpdir(), 'lix-langchain-chat-'));
const archive = new ConversationArchive({ dir: archiveDir });
// A unique prefix keeps reruns against a shared Redis apart.
const keyPrefix = `lcdemo-${process.pid}-${Date.now().toString(36)}`;
const clock = new DemoClock();

line(`lix-cache + LangChain.js chat — driver: ${redisUrl ? `ioredis (${new URL(redisUrl).host})` : 'memory (no Redis needed; set REDIS_URL to use a server)'}`);
line('embeddings: DEMO EMBEDDINGS (hashed bag of words, not a language model); model: FakeListChatModel');
line();

try {
  const cache = new LixSemanticCache({ driver, keyPrefix, scope: 'demo-user', embeddings: new DemoEmbeddings() });
  const model = new CountingChatModel({
    responses: ['The capital of France is Paris.', 'Late spring or early autumn, when it is mild.', 'Try the Louvre and a walk along the Seine.'],
    cache,
  });
  const prompt = ChatPromptTemplate.fromMessages([
    ['system', 'You are a concise travel assistant.'],
    new MessagesPlaceholder('history'),
    ['human', '{question}'],
  ]);
  const historyOf = (sessionId: string) => new LixChatMessageHistory({ sessionId, driver, archive, keyPrefix, hotWindowSize: 4, clock });
  const chat = new RunnableWithMessageHistory({
    runnable: prompt.pipe(model),
    getMessageHistory: historyOf,
    inputMessagesKey: 'question',
    historyMessagesKey: 'history',
  });
  const config = { configurable: { sessionId: 'trip-42' } };

  for (const question of [
    'What is the capital of France?',
    "Tell me, what's the capital of France?",
    'When is the best time to visit?',
    'What should I see there?',
  ]) {
    const before = cache.getStats().hits;
    const answer = await chat.invoke({ question }, config);
    const hit = cache.getStats().hits > before;
    line(`user: ${question}`);
    line(
      `assistant: ${String(answer.content)}  ${hit ? '[semantic cache] HIT: answered without calling the model' : '[semantic cache] miss: the model answered'}`,
    );
  }
  line(`model calls: ${model.calls} for 4 questions`);
  line();

  const history = historyOf('trip-42');
  const window = await history.getMessages();
  const full = await history.getFullHistory();
  line(`hot window: ${window.length} messages in ${redisUrl ? 'Redis' : 'memory'}, whole history: ${full.length} in the archive`);
  line(`window: ${show(window)}`);
  line();

  // An agent step, stored in one archive append and one Redis round trip.
  const toolCall = { id: 'call_1', name: 'get_weather', args: { city: 'Paris' }, type: 'tool_call' as const };
  await history.addMessages([
    new AIMessage({ content: '', tool_calls: [toolCall], response_metadata: { model_name: 'fake' } }),
    new ToolMessage({ content: '21 °C, sunny', tool_call_id: 'call_1', name: 'get_weather' }),
  ]);
  const stored = await history.getMessages();
  const restored = stored.at(-2) as AIMessage;
  line(`tool call kept: ${restored.constructor.name} ${JSON.stringify(restored.tool_calls)}; tool result: ${String(stored.at(-1)?.content)}`);
  line();

  clock.advance(2 * 3_600_000);
  const evictor = new IdleEvictor({ driver, keyPrefix, evictAfterMs: 3_600_000, clock });
  const pass = await evictor.runOnce();
  line(
    `evicted ${pass.evicted} idle session(s): ${(await history.window.getStats()).hotMessages} messages left hot, ${(await history.getFullHistory()).length} safe in the archive`,
  );
  const rehydrated = await historyOf('trip-42').getMessages();
  line(
    `re-hydrated ${rehydrated.length} messages from the archive, the same as before: ${JSON.stringify(rehydrated.map((m) => m.toDict())) === JSON.stringify(stored.map((m) => m.toDict()))}`,
  );
  line(`another session sees ${(await historyOf('someone-else').getMessages()).length} messages`);
  line();

  const stats = cache.getStats();
  line(`semantic cache: ${stats.hits} hits, ${stats.misses} misses, ${stats.failedLookups} failed lookups; model calls ${model.calls}`);
  await historyOf('trip-42').clear();
  line(`after clear(): ${(await historyOf('trip-42').getFullHistory()).length} messages`);
  await cache.semanticCache.clearSession();
} finally {
  await archive.close();
  await driver.close();
  rmSync(archiveDir, { recursive: true, force: true });
}
line('demo finished');
