import type { KVDriver, Logger } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { generateText, streamText, wrapLanguageModel, embedMany, wrapEmbeddingModel } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embeddingCacheMiddleware, semanticCacheMiddleware } from '../src/index.js';
import { testEmbeddingModel, testModel } from './helpers.js';

const clients = [
  ['ioredis', createIoredisDriver],
  ['node-redis', createNodeRedisDriver],
] as const;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => void warnings.push(message) };
}

for (const [clientName, createDriver] of clients) {
  describe(`fail open when Redis dies mid-test [${clientName}]`, () => {
    let server: RedisServerHandle;
    let driver: KVDriver;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterEach(async () => {
      await driver?.close();
      if (!server.isRunning()) await server.restart();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('calls the model (generate and stream) once the server is killed, and rejects nothing', async () => {
      driver = createDriver({ host: server.host, port: server.port, commandTimeoutMs: 300, connectTimeoutMs: 300, reconnectMaxDelayMs: 100 });
      await driver.connect();
      const logger = recordingLogger();
      const middleware = semanticCacheMiddleware({
        driver,
        embeddingModel: testEmbeddingModel(),
        sessionId: 's1',
        cacheOptions: { keyPrefix: uniquePrefix('failopen') },
        lookupTimeoutMs: 1000,
        storeTimeoutMs: 1000,
        logger,
      });
      const model = testModel();
      const wrapped = wrapLanguageModel({ model, middleware });
      await generateText({ model: wrapped, prompt: 'What is the capital of France?' });
      await generateText({ model: wrapped, prompt: 'What is the capital of France?' });
      expect(model.doGenerateCalls).toHaveLength(1);

      await server.kill();
      const afterKill = await generateText({ model: wrapped, prompt: 'What is the capital of France?' });
      expect(afterKill.text).toBe('Paris is the capital of France.');
      expect(afterKill.providerMetadata?.lix).toBeUndefined();
      expect(model.doGenerateCalls).toHaveLength(2);
      const streamed = streamText({ model: wrapped, prompt: 'What is the capital of France?' });
      expect(await streamed.text).toBe('Paris is the capital.');
      expect(model.doStreamCalls).toHaveLength(1);
      const stats = middleware.getStats();
      expect(stats.failures).toBeGreaterThanOrEqual(2);
      expect(stats.hits).toBe(1);
      expect(logger.warnings.some((message) => message.includes('lookup failed'))).toBe(true);

      await server.restart();
    });

    it('embeds every value with the model while the server is down (embedding middleware)', async () => {
      driver = createDriver({ host: server.host, port: server.port, commandTimeoutMs: 300, connectTimeoutMs: 300, reconnectMaxDelayMs: 100 });
      await driver.connect();
      const inner = testEmbeddingModel();
      const middleware = embeddingCacheMiddleware({ driver, keyPrefix: uniquePrefix('failopen'), timeoutMs: 1000 });
      const model = wrapEmbeddingModel({ model: inner, middleware });
      await embedMany({ model, values: ['a b', 'c d'] });
      await server.kill();
      const { embeddings } = await embedMany({ model, values: ['a b', 'c d', 'e f'] });
      expect(embeddings).toHaveLength(3);
      expect(inner.embeddedValues).toEqual(['a b', 'c d', 'a b', 'c d', 'e f']);
      expect(middleware.getStats().failures).toBeGreaterThanOrEqual(1);
      await server.restart();
    });
  });
}
