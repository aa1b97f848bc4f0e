import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample, startRedisServer, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let server: RedisServerHandle;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

describe('swap-driver example', () => {
  it('runs the same code on ioredis and on node-redis against one server', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir, env: { REDIS_URL: server.url } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const driver of ['ioredis', 'node-redis']) {
      expect(run.stdout).toContain(`${driver}: user: hello from the same code / assistant: answered through ${driver} / embedding [0.5, 0.25]`);
    }
  });

  it('says how to run it when REDIS_URL is not set', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir, env: { REDIS_URL: undefined } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('REDIS_URL is not set');
  });
});
