import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { legacyHuffDir } from '@lix/test-utils';
import { ConversationArchive } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageDir, 'src', 'cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'lix-archive-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', cli, ...args, '--dir', dir], { cwd: packageDir, encoding: 'utf8' });
}

describe('lix-archive CLI', () => {
  it('lists, shows, migrates, verifies and reports stats, with --json', async () => {
    const archive = new ConversationArchive({ dir });
    await archive.appendTurns('chat-1', [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: 'hi' },
    ]);
    copyFileSync(join(legacyHuffDir, 'archives', 'short-chat.huff'), join(dir, 'short-chat.huff'));

    const ls = JSON.parse(run('ls', '--json').stdout);
    expect(ls.map((s: { sessionId: string; format: string }) => [s.sessionId, s.format])).toEqual([
      ['chat-1', 'lix'],
      ['short-chat', 'legacy-huff'],
    ]);
    expect(run('show', 'chat-1').stdout).toContain('[user]');
    expect(JSON.parse(run('migrate', '--json').stdout)).toEqual({ migrated: ['short-chat'] });
    expect(readdirSync(dir).some((f) => f.endsWith('.huff'))).toBe(false);
    const stats = JSON.parse(run('stats', '--json').stdout);
    expect(stats).toMatchObject({ sessions: 2, turns: 8, legacySessions: 0 });
    const verify = run('verify');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain('checked 2 session(s), 0 damaged');
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  }, 60_000);

  it('verify reports the damaged byte ranges of a session and exits 1', async () => {
    const archive = new ConversationArchive({ dir, compactAfterAppends: 100 });
    for (let i = 0; i < 6; i++) await archive.appendTurn('hurt', { role: 'user', content: `message number ${i} `.repeat(20) });
    await archive.close();
    const file = join(dir, readdirSync(dir).find((f) => f.startsWith('s-hurt'))!);
    const bytes = readFileSync(file);
    bytes[300] = bytes[300]! ^ 0xff;
    writeFileSync(file, bytes);
    const verify = run('verify', '--json');
    expect(verify.status).toBe(1);
    const report = JSON.parse(verify.stdout) as {
      damaged: { sessionId: string; readableTurns: number; acknowledgedTurns: number; damaged: { start: number; end: number }[] }[];
    };
    expect(report.damaged).toHaveLength(1);
    expect(report.damaged[0]).toMatchObject({ sessionId: 'hurt', readableTurns: 5, acknowledgedTurns: 6 });
    expect(report.damaged[0]!.damaged[0]!.start).toBeLessThanOrEqual(300);
    expect(report.damaged[0]!.damaged[0]!.end).toBeGreaterThan(300);
    expect(run('verify').stdout).toContain('hurt: 5 of 6 turns readable; damaged bytes');
  }, 60_000);
});
