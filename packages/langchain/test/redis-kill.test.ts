import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LixChatMessageHistory, LixSemanticCache } from '../src/index.js';
import { BagOfWordsEmbeddings, absorbedFailures, createTestArchive, type TestArchive } from './doubles.js';

const dicts = (messages: BaseMessage[]) => messages.map((message) => message.toDict());

async function waitForRedis(driver: KVDriver): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await driver.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// A real redis-server SIGKILLed under a chat model and a history: the model answers
// (the cache is a miss), every message is still acknowledged by the archive and read
// back from it, and nothing rejects or goes unhandled (vitest fails the run on that).
describe.each([
  ['ioredis', createIoredisDriver],
  ['node-redis', createNodeRedisDriver],
] as const)('a Redis server killed under the cache and the history [%s]', (_name, createDriver) => {
  let server: RedisServerHandle;
  let store: TestArchive;
  let driver: KVDriver;
  beforeAll(async () => {
    server = await startRedisServer();
    store = createTestArchive();
    driver = createDriver({ host: server.host, port: server.port, commandTimeoutMs: 1000, reconnectMaxDelayMs: 100 });
    await driver.connect();
  });
  afterAll(async () => {
    await driver.close();
    await server.stop();
    await store.close();
  });

  it('calls the model, keeps every message, and recovers after the restart', async () => {
    const keyPrefix = uniquePrefix('lck');
    const warnings: string[] = [];
    const logger = { warn: (message: string) => void warnings.push(message) };
    const cache = new LixSemanticCache({ driver, keyPrefix, scope: 'outage', embeddings: new BagOfWordsEmbeddings(), logger });
    const model = new FakeListChatModel({ responses: ['Paris.', 'model during the outage', 'model after the restart'], cache });
    const history = new LixChatMessageHistory({ sessionId: 'outage', driver, archive: store.archive, keyPrefix, logger });

    expect((await model.invoke('What is the capital of France?')).content).toBe('Paris.');
    await history.addMessages([new HumanMessage('What is the capital of France?'), new AIMessage('Paris.')]);
    expect((await model.invoke("what's the capital of France?")).content).toBe('Paris.');

    await server.kill('SIGKILL');
    expect((await model.invoke('What is the capital of France?')).content).toBe('model during the outage');
    expect(cache.getStats().hits).toBe(1);
    expect(await absorbedFailures(cache)).toBe(2);
    await history.addMessage(new HumanMessage('And of Japan?'));
    await history.addMessages([new AIMessage('Tokyo.'), new HumanMessage('Thanks!')]);
    const expected = [
      new HumanMessage('What is the capital of France?'),
      new AIMessage('Paris.'),
      new HumanMessage('And of Japan?'),
      new AIMessage('Tokyo.'),
      new HumanMessage('Thanks!'),
    ];
    expect(dicts(await history.getMessages())).toEqual(dicts(expected));
    expect(warnings.length).toBeGreaterThan(2);

    await server.restart();
    await waitForRedis(driver);
    // The restarted server is empty: the window re-hydrates from the archive, the cache starts cold.
    expect(dicts(await history.getMessages())).toEqual(dicts(expected));
    expect((await history.window.getStats()).hotMessages).toBe(5);
    expect((await model.invoke('What is the capital of France?')).content).toBe('model after the restart');
    expect((await model.invoke("Tell me, what's the capital of France?")).content).toBe('model after the restart');
  });
});
