import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConversationArchive } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(packageDir, 'src', 'cli.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-interrupt-'));
  dirs.push(dir);
  return dir;
};
const args = (from: string, to: string) => ['--import', 'tsx', '--conditions=@lix/source', cli, 'migrate', '--from', from, '--to', to, '--json'];

describe('lix-archive migrate interrupted by SIGINT', () => {
  it('stops after the append in flight with exit 130, and a re-run copies the rest, nothing twice', async () => {
    const source = tempDir();
    const target = tempDir();
    const archive = new ConversationArchive({ dir: source });
    const SESSIONS = 600;
    for (let s = 0; s < SESSIONS; s++)
      await archive.appendTurns(`chat-${s}`, [
        { role: 'user', content: `q${s}` },
        { role: 'assistant', content: `a${s}` },
      ]);
    await archive.close();

    const child = spawn(process.execPath, args(source, target), { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    // Interrupt once the copy is under way (sessions have appeared in the destination).
    const started = Date.now();
    while (readdirSync(target).filter((name) => name !== '.locks' && !name.startsWith('.')).length < 20) {
      if (Date.now() - started > 60_000) throw new Error(`the copy never started: ${stderr}`);
      await new Promise((wait) => setTimeout(wait, 10));
    }
    child.kill('SIGINT');
    const code = await exited;
    expect(stderr).toMatch(/interrupted; \d+ session\(s\) copied in full/);
    expect(code).toBe(130);
    const partial = JSON.parse(stdout) as { interrupted: boolean; sessions: number; copied: number };
    expect(partial.interrupted).toBe(true);
    expect(partial.sessions).toBeLessThan(SESSIONS);

    const rerun = spawnSync(process.execPath, args(source, target), { cwd: packageDir, encoding: 'utf8' });
    expect(rerun.status, rerun.stderr).toBe(0);
    const rest = JSON.parse(rerun.stdout) as { sessions: number; copied: number; skipped: number };
    expect(rest.sessions).toBe(SESSIONS);
    expect(rest.copied + rest.skipped).toBe(2 * SESSIONS);
    expect(rest.copied).toBeLessThan(2 * SESSIONS);

    const copy = new ConversationArchive({ dir: target });
    try {
      for (let s = 0; s < SESSIONS; s++) {
        const turns = await copy.loadAll(`chat-${s}`);
        expect(turns.map((turn) => [turn.seq, turn.content])).toEqual([
          [1, `q${s}`],
          [2, `a${s}`],
        ]);
      }
    } finally {
      await copy.close();
    }
  }, 120_000);
});
