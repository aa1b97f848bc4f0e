import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample, startRedisServer, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function expectTheWholeStory(stdout: string): void {
  expect(stdout).toContain('user: What is the capital of France?\nassistant: The capital of France is Paris.  [semantic cache] miss: the model answered');
  expect(stdout).toContain(
    "user: Tell me, what's the capital of France?\nassistant: The capital of France is Paris.  [semantic cache] HIT: answered without calling the model",
  );
  expect(stdout).toContain('assistant: Try the Louvre and a walk along the Seine.  [semantic cache] miss');
  expect(stdout).toContain('model calls: 3 for 4 questions');
  expect(stdout).toMatch(/hot window: 4 messages in (memory|Redis), whole history: 8 in the archive/);
  expect(stdout).toContain(
    'tool call kept: AIMessage [{"id":"call_1","name":"get_weather","args":{"city":"Paris"},"type":"tool_call"}]; tool result: 21 °C, sunny',
  );
  expect(stdout).toContain('evicted 1 idle session(s): 0 messages left hot, 10 safe in the archive');
  expect(stdout).toContain('re-hydrated 4 messages from the archive, the same as before: true');
  expect(stdout).toContain('another session sees 0 messages');
  expect(stdout).toContain('semantic cache: 1 hits, 3 misses, 0 failed lookups; model calls 3');
  expect(stdout).toContain('after clear(): 0 messages');
  expect(stdout.trimEnd().endsWith('demo finished')).toBe(true);
}

describe('langchain-chat example', () => {
  it('runs offline on the in-memory driver', async () => {
    const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir, env: { REDIS_URL: undefined } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('driver: memory');
    expectTheWholeStory(run.stdout);
  });

  describe('against a real redis-server', () => {
    let server: RedisServerHandle;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server.stop();
    });

    it('tells the same story with REDIS_URL set', async () => {
      const run = await runExample(join(exampleDir, 'src/main.ts'), { cwd: exampleDir, env: { REDIS_URL: server.url } });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('driver: ioredis');
      expectTheWholeStory(run.stdout);
    });
  });
});
