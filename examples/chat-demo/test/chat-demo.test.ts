import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgresServer, startRedisServer, type PostgresServerHandle, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the demo as `npm run demo` does (tsx with the source condition) and returns its output. */
function runDemo(env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv = { ...process.env, ...env };
  if (env.REDIS_URL === undefined) delete childEnv.REDIS_URL;
  if (env.ARCHIVE_URL === undefined) delete childEnv.ARCHIVE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@lix/source', join(exampleDir, 'src/main.ts')],
      { cwd: exampleDir, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function expectTheWholeStory(stdout: string): void {
  expect(stdout).toMatch(/window overflow: 4 messages hot in (memory|Redis), 6 in the archive/);
  expect(stdout).toContain('[semantic cache] HIT: answered without calling the LLM');
  expect(stdout).toContain('pages embedded so far: 2 (for 2 pages and 5 lookups)');
  expect(stdout).toMatch(/evicted 1 idle session\(s\): 0 messages left hot, 8 safe in the archive/);
  expect(stdout).toContain('re-hydrated 4 messages from the archive');
  expect(stdout).toMatch(/semantic cache: 1 hits, 3 misses, hit rate 25%, LLM calls 3/);
  expect(stdout).toMatch(/url embedding cache: 3 hits, 2 misses, hit rate 60%/);
  expect(stdout).toContain('DEMO EMBEDDER');
  expect(stdout.trimEnd().endsWith('demo finished')).toBe(true);
}

describe('chat-demo', () => {
  it('runs with no Redis at all on the in-memory driver', async () => {
    const { code, stdout, stderr } = await runDemo({ REDIS_URL: undefined });
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

    it('runs the same story on the server and leaves no connection open', async () => {
      const { code, stdout, stderr } = await runDemo({ REDIS_URL: server.url });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain(`driver: ioredis (127.0.0.1:${server.port})`);
      expectTheWholeStory(stdout);
      // Each layer wrote to its own database on the server, as the original's layout says.
      for (const db of ['0', '1', '2']) expect(Number((await server.cli('-n', db, 'dbsize')).trim()), `db ${db}`).toBeGreaterThan(0);
      const clients = (await server.cli('client', 'list')).split('\n').filter((l) => l.includes('addr='));
      expect(clients).toHaveLength(1);
    });
  });

  describe('with the archive in PostgreSQL (ARCHIVE_URL)', () => {
    let server: PostgresServerHandle;
    beforeAll(async () => {
      server = await startPostgresServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('runs the same story with every archived message in PostgreSQL', async () => {
      const { code, stdout, stderr } = await runDemo({ REDIS_URL: undefined, ARCHIVE_URL: server.url });
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toContain(`archive: PostgreSQL (127.0.0.1:${server.port})`);
      expectTheWholeStory(stdout);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        // Schema 2 keeps no counters in the session row: the turns are the compacted blocks' plus the tail rows.
        const stored = await client.query(
          `SELECT (SELECT count(*) FROM lix_archive_sessions)::int AS sessions,
                  ((SELECT coalesce(sum(turn_count), 0) FROM lix_archive_blocks) + (SELECT count(*) FROM lix_archive_turns))::int AS turns`,
        );
        expect(stored.rows).toEqual([{ sessions: 1, turns: 8 }]);
      } finally {
        await client.end();
      }
    });
  });
});
