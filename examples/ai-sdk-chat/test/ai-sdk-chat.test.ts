import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample, startRedisServer, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(exampleDir, 'src/main.ts');
// The offline path must not depend on a key in the developer's environment.
const offline = { AI_GATEWAY_API_KEY: undefined, REDIS_URL: undefined };

function expectTheWholeStory(stdout: string): void {
  expect(stdout).toContain('model: mock-llm (offline)');
  expect(stdout).toContain('cache: MISS, model calls so far: 1');
  expect(stdout).toMatch(/cache: HIT \(similarity 0\.\d\d\), model calls so far: 1, tokens spent: 0/);
  expect(stdout).toContain('streamed from the model: 22 text chunks, model calls so far: 2');
  expect(stdout).toContain('replayed: 22 text chunks, cache HIT, model calls so far: 2');
  expect(stdout).toContain('same text: yes');
  expect(stdout).toContain('saved 2 then 2 new messages; loaded 4: u1/user a1/assistant u2/user a2/assistant');
  expect(stdout).toContain('loaded exactly what was saved: yes');
  expect(stdout).toContain('semantic cache: 2 hits, 2 misses, 2 stored, model calls 2');
  expect(stdout).toContain('DEMO EMBEDDER');
  expect(stdout.trimEnd().endsWith('demo finished')).toBe(true);
}

describe('ai-sdk-chat example', () => {
  it('runs offline on the in-memory driver: miss, rephrased hit, streamed replay, saved chat', async () => {
    const { code, stdout, stderr } = await runExample(script, { cwd: exampleDir, env: offline });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('driver: memory');
    expectTheWholeStory(stdout);
  });

  describe('against a real Redis (REDIS_URL)', () => {
    let server: RedisServerHandle;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('tells the same story on the server and leaves keys there', async () => {
      const { code, stdout, stderr } = await runExample(script, { cwd: exampleDir, env: { ...offline, REDIS_URL: server.url } });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain('driver: ioredis');
      expectTheWholeStory(stdout);
      expect(Number((await server.cli('dbsize')).trim())).toBeGreaterThan(0);
    });
  });
});
