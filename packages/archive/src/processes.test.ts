import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationArchive } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const childScript = join(packageDir, 'test', 'append-child.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-proc-'));
  dirs.push(dir);
  return dir;
}

interface Child {
  proc: ChildProcess;
  acks: { seq: number; content: string }[];
  exited: Promise<void>;
}

function startChild(args: string[], onAck?: (count: number) => void): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', childScript, ...args], {
    cwd: packageDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Child['acks'] = [];
  let buffered = '';
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const match = /^ack (\d+) (.+)$/.exec(line);
      if (match) {
        acks.push({ seq: Number(match[1]), content: match[2]! });
        onAck?.(acks.length);
      }
    }
  });
  const exited = new Promise<void>((resolveExit, reject) =>
    proc.once('exit', (code, signal) => (code === 0 || signal === 'SIGKILL' ? resolveExit() : reject(new Error(`child exited ${code}: ${stderr}`)))),
  );
  return { proc, acks, exited };
}

describe('several processes', () => {
  it('concurrent auto-seq appenders in 3 processes lose nothing and never share a seq', async () => {
    const dir = tempDir();
    const children = ['a', 'b', 'c'].map((label) => startChild([dir, 'shared', label, '40', 'auto']));
    await Promise.all(children.map((c) => c.exited));
    const turns = await new ConversationArchive({ dir }).loadAll('shared');
    expect(turns).toHaveLength(120);
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    for (const child of children) {
      for (const ack of child.acks) expect(turns[ack.seq - 1]!.content).toBe(ack.content);
    }
  });

  it('two processes appending the same explicit seqs store each seq exactly once', async () => {
    const dir = tempDir();
    const children = ['x', 'y'].map((label) => startChild([dir, 'dup', label, '50', 'explicit']));
    await Promise.all(children.map((c) => c.exited));
    const turns = await new ConversationArchive({ dir }).loadAll('dup');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });
});

describe('SIGKILL at random points', () => {
  it('every acknowledged append survives, exactly once and in order (12 trials, lock holders killed)', async () => {
    const dir = tempDir();
    let seed = 99;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const acked: { seq: number; content: string }[] = [];
    for (let trial = 0; trial < 12; trial++) {
      const killAfter = 1 + Math.floor(random() * 25);
      const child = startChild([dir, 'crashy', `t${trial}`, '1000', 'auto'], (count) => {
        if (count === killAfter) setTimeout(() => child.proc.kill('SIGKILL'), Math.floor(random() * 3));
      });
      await child.exited;
      acked.push(...child.acks);
    }
    const turns = await new ConversationArchive({ dir }).loadAll('crashy');
    const bySeq = new Map(turns.map((t) => [t.seq, t.content]));
    expect(new Set(turns.map((t) => t.seq)).size).toBe(turns.length);
    expect(turns.map((t) => t.seq)).toEqual([...turns.map((t) => t.seq)].sort((a, b) => a - b));
    for (const ack of acked) expect(bySeq.get(ack.seq)).toBe(ack.content);
    expect(acked.length).toBeGreaterThanOrEqual(12);
  }, 120_000);
});
