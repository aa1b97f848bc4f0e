import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationArchive } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const writerScript = join(packageDir, 'test', 'namespace-writer.ts');

/** Why these tests cannot run here, or undefined when `unshare --pid` works (it needs root or user namespaces). */
function unshareProblem(): string | undefined {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', 'echo $$'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not installed (${probe.error.message}); install util-linux`;
  if (probe.status !== 0) return `unshare --pid failed (${probe.stderr.trim()}); run as root or enable user namespaces`;
  if (probe.stdout.trim() !== '1') return `unshare did not give the child pid 1 (got ${probe.stdout.trim()})`;
  return undefined;
}
const problem = unshareProblem();
if (problem) console.warn(`[archive] skipping the PID-namespace lock tests: ${problem}`);

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

interface Writer {
  unshare: ChildProcess;
  acks: { seq: number; content: string }[];
  innerPid: number | undefined;
  done: boolean;
  killed: boolean;
  exited: Promise<void>;
}

/** Starts a writer as pid 1 of a fresh PID namespace (with its own /proc). */
function startWriter(dir: string, sessionId: string, label: string, count: number, onAck?: (writer: Writer) => void): Writer {
  const unshare = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', '--conditions=@lix/source', writerScript, dir, sessionId, label, String(count)],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const writer: Writer = { unshare, acks: [], innerPid: undefined, done: false, killed: false, exited: Promise.resolve() };
  let buffered = '';
  let stderr = '';
  unshare.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  unshare.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const ack = /^ack (\d+) (.+)$/.exec(line);
      if (ack) {
        writer.acks.push({ seq: Number(ack[1]), content: ack[2]! });
        onAck?.(writer);
      } else if (line.startsWith('pid ')) {
        expect(line).toBe('pid 1');
      } else if (line === 'done') writer.done = true;
    }
  });
  writer.exited = new Promise<void>((resolveExit, reject) =>
    unshare.once('exit', (code, signal) =>
      code === 0 || writer.killed ? resolveExit() : reject(new Error(`writer ${label} exited ${code ?? signal}: ${stderr}`)),
    ),
  );
  return writer;
}

/** SIGKILLs the writer itself (pid 1 of its namespace, seen from here through unshare's children). */
function killInner(writer: Writer): void {
  writer.killed = true;
  const pid = writer.unshare.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const child of children) process.kill(child, 'SIGKILL');
}

function expectAllAcked(stored: { seq: number; content: string }[], acks: { seq: number; content: string }[]): void {
  const seqs = stored.map((t) => t.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
  expect(new Set(stored.map((t) => t.content)).size).toBe(stored.length);
  const bySeq = new Map(stored.map((t) => [t.seq, t.content]));
  for (const ack of acks) expect(bySeq.get(ack.seq), `acknowledged seq ${ack.seq} (${ack.content}) lost`).toBe(ack.content);
}

describe.runIf(problem === undefined)('writers in separate PID namespaces sharing one folder', () => {
  it('3 writers × 300 turns to one session: 900 stored, seqs 1..900, every ack at its seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lix-archive-ns-'));
    dirs.push(dir);
    const writers = ['a', 'b', 'c'].map((label) => startWriter(dir, 'shared', label, 300));
    await Promise.all(writers.map((w) => w.exited));
    for (const w of writers) expect(w.done).toBe(true);
    const stored = await new ConversationArchive({ dir }).loadAll('shared');
    expect(stored.map((t) => t.seq)).toEqual(Array.from({ length: 900 }, (_, i) => i + 1));
    expectAllAcked(
      stored,
      writers.flatMap((w) => w.acks),
    );
  }, 600_000);

  it('SIGKILLed lock holders lose no acknowledged turn and do not block the others for good', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lix-archive-ns-kill-'));
    dirs.push(dir);
    const acks: { seq: number; content: string }[] = [];
    let seed = 77;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let round = 0; round < 4; round++) {
      const survivors = ['s1', 's2'].map((label) => startWriter(dir, 'killed', `${label}r${round}`, 40));
      const killAfter = 3 + Math.floor(random() * 20);
      let killed = false;
      const victim = startWriter(dir, 'killed', `victim${round}`, 100_000, (w) => {
        if (!killed && w.acks.length >= killAfter) {
          killed = true;
          killInner(w);
        }
      });
      await Promise.all([...survivors.map((w) => w.exited), victim.exited]);
      for (const w of survivors) expect(w.done).toBe(true);
      expect(victim.done).toBe(false);
      acks.push(...survivors.flatMap((w) => w.acks), ...victim.acks);
    }
    const archive = new ConversationArchive({ dir, lockStaleMs: 1500 });
    const last = await archive.appendTurn('killed', { role: 'user', content: 'after all kills' });
    const stored = await archive.loadAll('killed');
    expectAllAcked(stored, [...acks, { seq: last.seqs[0]!, content: 'after all kills' }]);
    expect(stored.map((t) => t.seq)).toEqual([...stored.map((t) => t.seq)].sort((x, y) => x - y));
    expect(stored.length).toBeGreaterThanOrEqual(4 * 80);
  }, 600_000);
});
