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
