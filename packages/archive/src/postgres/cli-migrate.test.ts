import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyHuffDir, startPostgresServer, type PostgresServerHandle } from '@lix/test-utils';
import { ConversationArchive } from '../index.js';
import { PostgresArchiveStore } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(packageDir, 'src', 'cli.ts');
const dirs: string[] = [];
let server: PostgresServerHandle;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-migrate-'));
  dirs.push(dir);
  return dir;
}

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', cli, ...args], { cwd: packageDir, encoding: 'utf8' });
}

describe('lix-archive migrate --from --to', () => {
  it('copies every session folder -> PostgreSQL -> folder, and a re-run copies nothing twice', async () => {
    const source = tempDir();
    const archive = new ConversationArchive({ dir: source, compactAfterAppends: 3 });
    for (let i = 0; i < 30; i++) await archive.appendTurn('chat-1', { role: i % 2 ? 'assistant' : 'user', content: `message ${i}`, metadata: { i } });
    await archive.appendTurns('chat-2', [
      { role: 'user', content: 'a', seq: 5 },
      { role: 'user', content: 'b', seq: 9 },
    ]);
    copyFileSync(join(legacyHuffDir, 'archives', 'medium-chat.huff'), join(source, 'medium-chat.huff'));

    const first = run('migrate', '--from', source, '--to', server.url, '--schema', 'copy', '--json');
    expect(first.status, first.stderr).toBe(0);
    const legacyTurns = (await archive.loadAll('medium-chat')).length;
    expect(JSON.parse(first.stdout)).toEqual({ sessions: 3, copied: 32 + legacyTurns, skipped: 0 });

    const again = run('migrate', '--from', source, '--to', server.url, '--schema', 'copy', '--json');
    expect(JSON.parse(again.stdout)).toEqual({ sessions: 3, copied: 0, skipped: 32 + legacyTurns });

    const store = new PostgresArchiveStore({ connectionString: server.url, schema: 'copy' });
    for (const id of ['chat-1', 'chat-2', 'medium-chat']) {
      const want = (await archive.loadAll(id)).map(({ seq, role, content, timestamp, metadata }) => ({ seq, role, content, timestamp, metadata }));
      const got = (await store.loadAll(id)).map(({ seq, role, content, timestamp, metadata }) => ({ seq, role, content, timestamp, metadata }));
      expect(got, id).toEqual(want);
    }
    await store.close();

    const back = tempDir();
    const home = run('migrate', '--from', server.url, '--to', back, '--schema', 'copy');
    expect(home.status, home.stderr).toBe(0);
    expect(home.stdout).toContain(`copied ${32 + legacyTurns} turn(s) of 3 session(s)`);
    const copy = new ConversationArchive({ dir: back });
    expect((await copy.loadAll('chat-2')).map((t) => [t.seq, t.content])).toEqual([
      [5, 'a'],
      [9, 'b'],
    ]);
  }, 120_000);

  it('draws a progress bar on a terminal', () => {
    const source = tempDir();
    const archive = new ConversationArchive({ dir: source });
    const command = [process.execPath, '--import', 'tsx', '--conditions=@lix/source', cli, 'migrate', '--from', source, '--to', tempDir()]
      .map((a) => `'${a}'`)
      .join(' ');
    return archive.appendTurn('s', { role: 'user', content: 'x' }).then(() => {
      // `script` runs the command on a pseudo-terminal, as a user at a shell would.
      const result = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: packageDir, encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\[#{30}\] 1\/1 sessions, 1 turns copied/);
    });
  }, 60_000);

  it('refuses a half-given pair and an unsupported URL scheme', () => {
    const half = run('migrate', '--from', tempDir());
    expect(half.status).toBe(2);
    expect(half.stderr).toContain('both --from and --to');
    const scheme = run('migrate', '--from', 'mysql://host/db', '--to', tempDir());
    expect(scheme.status).toBe(1);
    expect(scheme.stderr).toContain('INVALID_ARGUMENT');
  }, 60_000);
});
