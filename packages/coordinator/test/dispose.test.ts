import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCacheRuntime, isConfigError } from '../src/index.js';

describe('await using', () => {
  it('closes a runtime and the coordinators it made when the block ends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lix-coord-dispose-'));
    try {
      let chat: ReturnType<ReturnType<typeof createCacheRuntime>['forSession']> | undefined;
      {
        await using runtime = createCacheRuntime({ config: { driver: 'memory', archiveDir: dir }, idleEviction: false });
        chat = runtime.forSession('disposed');
        await chat.addMessageToContext('user', 'hello');
        expect((await chat.getContextMessages()).map((message) => message.content)).toEqual(['hello']);
      }
      const error = await chat.getContextMessages().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isConfigError(error, 'CLOSED')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CacheRuntime.connect', () => {
  it('resolves once the drivers answer and the archive is readable, and rejects after close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lix-coord-connect-'));
    try {
      const runtime = createCacheRuntime({ config: { driver: 'memory', archiveDir: dir }, idleEviction: false });
      await runtime.connect();
      await runtime.close();
      const error = await runtime.connect().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isConfigError(error, 'CLOSED')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects with the driver error when Redis cannot be reached', async () => {
    const { getFreePort } = await import('@lix/test-utils');
    const port = await getFreePort();
    const runtime = createCacheRuntime({
      config: { driver: 'ioredis', redisHost: '127.0.0.1', redisPort: port, redisSocketConnectTimeout: 1, redisCommandTimeoutMs: 500 },
      layers: { sessionWindow: false },
    });
    try {
      const error = await runtime.connect().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ name: 'KVError' });
      expect(['CONNECTION_LOST', 'TIMEOUT']).toContain((error as { code: string }).code);
    } finally {
      await runtime.close();
    }
  });
});
