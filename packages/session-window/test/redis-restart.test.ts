import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HybridConversationCache } from '../src/index.js';
import { createTestArchive, type TestArchive } from './archive.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForRedis(driver: KVDriver): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await driver.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

// The server has no persistence: a restart comes back empty, as after a crash of a
// cache-only Redis. Every acknowledged message must still be there exactly once.
describe.each([
  ['ioredis', createIoredisDriver],
  ['node-redis', createNodeRedisDriver],
] as const)('a Redis server killed and restarted mid-stream [%s]', (_name, createDriver) => {
  let server: RedisServerHandle;
  let store: TestArchive;
  let driver: KVDriver;
  beforeAll(async () => {
    server = await startRedisServer();
    store = await createTestArchive();
    driver = createDriver({ host: server.host, port: server.port, commandTimeoutMs: 1000, reconnectMaxDelayMs: 100 });
    await driver.connect();
  });
  afterAll(async () => {
    await driver.close();
    await server.stop();
    await store.close();
  });

  it('acknowledges every write through the outage and serves the exact window after the restart', async () => {
    const keyPrefix = uniquePrefix('swr');
    const writer = new HybridConversationCache({ sessionId: 'restart', driver, archive: store.archive, keyPrefix, hotWindowSize: 5 });
    const reader = new HybridConversationCache({ sessionId: 'restart', driver, archive: store.archive, keyPrefix, hotWindowSize: 5 });
    const acked: number[] = [];
    // A second writer streams into its own session while the server dies and returns.
    const neighbour = new HybridConversationCache({ sessionId: 'neighbour', driver, archive: store.archive, keyPrefix, hotWindowSize: 5 });
    let streaming = true;
    const neighbourAcks: number[] = [];
    const stream = (async () => {
      let i = 0;
      while (streaming) {
        neighbourAcks.push(await neighbour.addMessage('user', `n${++i}`));
        await sleep(2);
      }
    })();

    for (let i = 1; i <= 45; i++) {
      if (i === 16) await server.kill('SIGKILL');
      if (i === 31) {
        await server.restart();
        await waitForRedis(driver);
      }
      acked.push(await writer.addMessage('user', `m${i}`));
      if (i === 25) {
        // Reads during the outage come from the archive.
        expect((await reader.getContext()).map((m) => m.content)).toEqual(range(21, 25).map((n) => `m${n}`));
      }
    }
    streaming = false;
    await stream;
    expect(acked).toEqual(range(1, 45));
    expect((await reader.getContext()).map((m) => m.content)).toEqual(range(41, 45).map((n) => `m${n}`));
    expect((await reader.getFull()).map((m) => m.content)).toEqual(range(1, 45).map((n) => `m${n}`));
    expect(neighbourAcks).toEqual(range(1, neighbourAcks.length));
    const neighbourFull = await neighbour.getFull();
    expect(neighbourFull.map((m) => m.content)).toEqual(neighbourAcks.map((n) => `n${n}`));
    expect((await neighbour.getContext()).map((m) => m.seq)).toEqual(neighbourAcks.slice(-5));
  });
});
