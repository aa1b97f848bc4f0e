import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServerHandle } from '@lix/test-utils';
import { PostgresArchiveStore } from './index.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = join(packageDir, 'test', 'pg-append-child.ts');

let server: PostgresServerHandle;
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Child {
  proc: ChildProcess;
  acks: { seq: number; content: string }[];
  exited: Promise<void>;
}

function startChild(schema: string, sessionId: string, label: string, count: number, mode: 'auto' | 'explicit', onAck?: (count: number) => void): Child {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@lix/source', childScript, server.url, schema, sessionId, label, String(count), mode],
    {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
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
    proc.once('exit', (code) => (code === 0 ? resolveExit() : reject(new Error(`child exited ${code}: ${stderr}`)))),
  );
  return { proc, acks, exited };
}

async function migratedStore(schema: string): Promise<PostgresArchiveStore> {
  const store = new PostgresArchiveStore({ connectionString: server.url, schema });
  await store.migrate();
  return store;
}

describe('PostgresArchiveStore: several processes', () => {
  it('3 processes appending auto seqs to one session: 120 turns, seqs 1..120, each acknowledged seq holds its turn', async () => {
    const store = await migratedStore('procs_auto');
    const children = ['a', 'b', 'c'].map((label) => startChild('procs_auto', 'shared', label, 40, 'auto'));
    await Promise.all(children.map((child) => child.exited));
    const turns = await store.loadAll('shared');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    for (const child of children) for (const ack of child.acks) expect(turns[ack.seq - 1]!.content).toBe(ack.content);
    await store.close();
  }, 60_000);

  it('2 processes appending the same explicit seqs store each seq exactly once', async () => {
    const store = await migratedStore('procs_explicit');
    const children = ['x', 'y'].map((label) => startChild('procs_explicit', 'dup', label, 50, 'explicit'));
    await Promise.all(children.map((child) => child.exited));
    const turns = await store.loadAll('dup');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // Each seq holds the turn of the process whose append won it, and that process acknowledged it.
    const acked = new Map(children.flatMap((child) => child.acks.map((ack) => [`${ack.seq} ${ack.content}`, true] as const)));
    for (const turn of turns) expect(acked.has(`${turn.seq} ${turn.content}`)).toBe(true);
    await store.close();
  }, 60_000);
});

describe('PostgresArchiveStore: SIGKILL of the PostgreSQL server mid-append', () => {
  it('every acknowledged turn is present exactly once after kill -9 of the postmaster and a restart (3 crashes)', async () => {
    const store = await migratedStore('crash');
    // Two writers share a session with auto seqs (a failed turn is given up), two retry
    // explicit seqs on sessions of their own until acknowledged.
    const children = [
      startChild('crash', 'shared', 'p', 150, 'auto'),
      startChild('crash', 'shared', 'q', 150, 'auto'),
      startChild('crash', 'own-r', 'r', 150, 'explicit'),
      startChild('crash', 'own-s', 's', 150, 'explicit'),
    ];
    const totalAcks = () => children.reduce((sum, child) => sum + child.acks.length, 0);
    for (let crash = 0; crash < 3; crash++) {
      const before = totalAcks();
      while (totalAcks() < before + 40) await new Promise((r) => setTimeout(r, 20));
      await server.kill();
      await new Promise((r) => setTimeout(r, 300));
      await server.restart();
    }
    await Promise.all(children.map((child) => child.exited));

    const shared = await store.loadAll('shared');
    const seqs = shared.map((t) => t.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(shared.map((t) => t.content)).size).toBe(shared.length);
    const bySeq = new Map(shared.map((t) => [t.seq, t.content]));
    for (const child of children.slice(0, 2)) for (const ack of child.acks) expect(bySeq.get(ack.seq)).toBe(ack.content);
    expect(children[0]!.acks.length + children[1]!.acks.length).toBeGreaterThan(60);

    for (const [index, sessionId] of [
      [2, 'own-r'],
      [3, 'own-s'],
    ] as const) {
      const turns = await store.loadAll(sessionId);
      expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      expect(children[index]!.acks).toHaveLength(150);
      for (const ack of children[index]!.acks) expect(turns[ack.seq - 1]!.content).toBe(ack.content);
    }
    await store.close();
  }, 120_000);
});
