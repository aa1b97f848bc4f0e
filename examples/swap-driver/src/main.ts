// The same application code on ioredis and on node-redis: only `driver` changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheConfig, createCacheRuntime } from '@lix/coordinator';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.log('REDIS_URL is not set: start a Redis and run e.g. REDIS_URL=redis://127.0.0.1:6379 pnpm start');
  process.exit(0);
}

/** Application code: knows nothing about which client library runs underneath. */
async function chatTurn(driver: 'ioredis' | 'node-redis'): Promise<string> {
  const archiveDir = mkdtempSync(join(tmpdir(), `lix-swap-${driver}-`));
  const runtime = createCacheRuntime({
    config: new CacheConfig({ driver, redisUrl, archiveDir, redisKeyPrefix: `swap-${driver}-${process.pid}` }),
    idleEviction: false,
  });
  try {
    const chat = runtime.forSession('swap-demo');
    await chat.addMessageToContext('user', 'hello from the same code');
    await chat.addMessageToContext('assistant', `answered through ${driver}`);
    await chat.cacheUrlEmbedding('https://example.com', Float32Array.from([0.5, 0.25]));
    const embedding = await chat.getUrlEmbedding('https://example.com');
    const context = await chat.getFormattedContext();
    return `${context.replace(/\n/g, ' / ')} / embedding [${Array.from(embedding ?? []).join(', ')}]`;
  } finally {
    await runtime.close();
    rmSync(archiveDir, { recursive: true, force: true });
  }
}

for (const driver of ['ioredis', 'node-redis'] as const) console.log(`${driver}: ${await chatTurn(driver)}`);
