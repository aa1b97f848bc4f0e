import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationArchive } from '@lix/archive';
import { startPostgresServer, type PostgresServerHandle } from '@lix/test-utils';
import { CacheConfig, createArchiveStore, createCacheRuntime, isConfigError, migrateArchive } from './index.js';

describe('CacheConfig.archiveUrl', () => {
  it('is unset by default, read from {PREFIX}_ARCHIVE_URL, and redacted in toJSON', () => {
    expect(new CacheConfig().archiveUrl).toBeUndefined();
    const config = CacheConfig.fromEnv('APP', { APP_ARCHIVE_URL: 'postgres://app:secret@db.internal:5432/chat' });
    expect(config.archiveUrl).toBe('postgres://app:secret@db.internal:5432/chat');
    expect(JSON.stringify(config.toJSON())).not.toContain('secret');
    expect(new CacheConfig({ archiveUrl: 'postgresql://db/chat' }).archiveUrl).toBe('postgresql://db/chat');
  });

  it('a malformed URL is a ConfigError naming the variable', () => {
    for (const value of ['not a url', 'redis://localhost:6379', 'postgres://', 'postgres://db:99999/x']) {
      let error: unknown;
      try {
        CacheConfig.fromEnv('APP', { APP_ARCHIVE_URL: value });
      } catch (caught) {
        error = caught;
      }
      expect(isConfigError(error), value).toBe(true);
      expect((error as Error).message).toContain('APP_ARCHIVE_URL');
    }
    expect(() => new CacheConfig({ archiveUrl: 42 as unknown as string })).toThrow(/archiveUrl/);
  });

  it('without archiveUrl the runtime archive is the folder store', () => {
    expect(createArchiveStore(new CacheConfig({ archiveDir: '/tmp/lix-archive-url-test' }))).toBeInstanceOf(ConversationArchive);
  });
});

describe('the runtime on a PostgreSQL archive', () => {
  let server: PostgresServerHandle;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('writes every message through to PostgreSQL and re-hydrates from it', async () => {
    const config = new CacheConfig({ driver: 'memory', archiveUrl: server.url, hotWindowSize: 3 });
    await migrateArchive(config);
    await migrateArchive(config);
    const runtime = createCacheRuntime({ config, idleEviction: false });
    try {
      const chat = runtime.forSession('pg-session');
      for (let i = 0; i < 7; i++) await chat.addMessageToContext(i % 2 ? 'assistant' : 'user', `message ${i}`);
      const store = runtime.archive as { loadAll(id: string): Promise<{ seq: number; content: string }[]> };
      expect((await store.loadAll('pg-session')).map((t) => [t.seq, t.content])).toEqual(Array.from({ length: 7 }, (_, i) => [i + 1, `message ${i}`]));
      const context = await chat.getContextMessages();
      expect(context.map((m) => m.content)).toEqual(['message 4', 'message 5', 'message 6']);
    } finally {
      await runtime.close();
    }
  });
});
