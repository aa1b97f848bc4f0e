import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveError, ConversationArchive } from './index.js';
import { LOCK_FOLDER } from './archive.js';
import { FrameKind, scanFrames } from './frame.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-lease-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const generations = (lockDir: string) =>
  readdirSync(lockDir)
    .filter((name) => /^g\d+$/.test(name))
    .map((name) => Number(name.slice(1)));
const sessionFile = (dir: string) => join(dir, readdirSync(dir).find((name) => name.endsWith('.lix'))!);

describe('deleteSession and the lock folder', () => {
  it('removes the session lock folder; the id can be used again afterwards', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    await archive.appendTurn('gone', { role: 'user', content: 'a' });
    expect(readdirSync(join(dir, LOCK_FOLDER))).toHaveLength(1);
    expect(await archive.deleteSession('gone')).toBe(true);
    expect(readdirSync(join(dir, LOCK_FOLDER))).toEqual([]);
    await sleep(1_200); // no idle compaction comes back for the deleted session
    expect(readdirSync(join(dir, LOCK_FOLDER))).toEqual([]);
    await archive.appendTurn('gone', { role: 'user', content: 'b' });
    expect((await archive.loadAll('gone')).map((t) => [t.seq, t.content])).toEqual([[1, 'b']]);
    await archive.close();
  });

  it('writers of two stores racing a delete lose and duplicate nothing written after it', async () => {
    const dir = tempDir();
    const a = new ConversationArchive({ dir });
    const b = new ConversationArchive({ dir });
    await a.appendTurn('race', { role: 'user', content: 'before' });
    const during = Array.from({ length: 15 }, (_, i) => (i % 2 === 0 ? a : b).appendTurn('race', { role: 'user', content: `during${i}` }));
    await b.deleteSession('race');
    await Promise.all(during);
    // The folder may have been removed and created again meanwhile: writers of both stores still exclude each other.
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).appendTurn('race', { role: 'user', content: `after${i}` })));
    const stored = await a.loadAll('race');
    expect(stored.map((t) => t.seq)).toEqual(stored.map((_, i) => i + 1));
    const contents = stored.map((t) => t.content);
    expect(new Set(contents).size).toBe(contents.length);
    for (let i = 0; i < 20; i++) expect(contents).toContain(`after${i}`);
    await a.close();
    await b.close();
  });
});

describe('the kept lease', () => {
  it('is kept past 40 ms of holding when nobody waits (no new generation)', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    await archive.appendTurn('kept', { role: 'user', content: 'first' });
    const lockDir = join(dir, LOCK_FOLDER, readdirSync(join(dir, LOCK_FOLDER))[0]!);
    const first = Math.max(...generations(lockDir));
    const until = Date.now() + 150;
    while (Date.now() < until) {
      await archive.appendTurn('kept', { role: 'user', content: 'more' });
      await tick();
    }
    expect(Math.max(...generations(lockDir))).toBe(first);
    await archive.close();
  });

  it('is handed over to a writer of another store that waits, while its holder keeps appending', async () => {
    const dir = tempDir();
    const holder = new ConversationArchive({ dir });
    const waiter = new ConversationArchive({ dir });
    await holder.appendTurn('fair', { role: 'user', content: 'start' });
    let waiterSeq: number | undefined;
    const waiting = waiter.appendTurn('fair', { role: 'user', content: 'waiter' }).then((result) => {
      waiterSeq = result.lastSeq;
    });
    const deadline = Date.now() + 5_000;
    let after = 0;
    while (Date.now() < deadline && (waiterSeq === undefined || after < 5)) {
      await holder.appendTurn('fair', { role: 'user', content: 'holder' });
      if (waiterSeq !== undefined) after++;
      await tick();
    }
    await waiting;
    expect(waiterSeq).toBeDefined();
    const stored = await holder.loadAll('fair');
    expect(stored.map((t) => t.seq)).toEqual(stored.map((_, i) => i + 1));
    // The holder appended again after the waiter got in: it yielded instead of keeping the lock to the end.
    expect(stored.filter((t) => t.seq > waiterSeq!).every((t) => t.content === 'holder')).toBe(true);
    expect(stored.filter((t) => t.seq > waiterSeq!).length).toBeGreaterThanOrEqual(5);
    await holder.close();
    await waiter.close();
  });

  it('keeps an idle lease for 1 s, then compacts the tail into one block and releases', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    for (let i = 0; i < 3; i++) await archive.appendTurn('idle', { role: 'user', content: `turn ${i} `.repeat(30) });
    const kinds = () => scanFrames(readFileSync(sessionFile(dir))).frames.map((f) => f.kind);
    expect(kinds().filter((k) => k === FrameKind.Turns)).toHaveLength(3);
    const lockDir = join(dir, LOCK_FOLDER, readdirSync(join(dir, LOCK_FOLDER))[0]!);
    const released = () => readFileSync(join(lockDir, `g${Math.max(...generations(lockDir))}`), 'latin1').startsWith('D');
    await sleep(200);
    expect(released()).toBe(false);
    expect(kinds().filter((k) => k === FrameKind.Turns)).toHaveLength(3);
    await sleep(1_300);
    expect(kinds().filter((k) => k === FrameKind.Turns)).toHaveLength(0);
    expect(kinds().filter((k) => k === FrameKind.Block)).toHaveLength(1);
    expect((await archive.loadAll('idle')).map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(released()).toBe(true);
    await archive.close();
  });

  it('an idle lease is handed at once to a writer of another store that waits (its mark), without waiting for the idle release', async () => {
    const dir = tempDir();
    const holder = new ConversationArchive({ dir });
    const other = new ConversationArchive({ dir });
    await holder.appendTurn('handover', { role: 'user', content: 'a' });
    let done = false;
    const waiting = other.appendTurn('handover', { role: 'user', content: 'b' }).then(() => {
      done = true;
    });
    await sleep(700);
    // Before the 1 s idle release: the holder saw the mark and let the waiter in.
    expect(done).toBe(true);
    await waiting;
    expect((await other.loadAll('handover')).map((t) => t.content)).toEqual(['a', 'b']);
    await holder.close();
    await other.close();
  });

  it('leaves the tail as durable frames on close (no work at shutdown)', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    for (let i = 0; i < 3; i++) await archive.appendTurn('closed', { role: 'user', content: `t${i}` });
    await archive.close();
    expect(scanFrames(readFileSync(sessionFile(dir))).frames.filter((f) => f.kind === FrameKind.Turns)).toHaveLength(3);
    expect((await new ConversationArchive({ dir }).loadAll('closed')).map((t) => t.content)).toEqual(['t0', 't1', 't2']);
    expect(existsSync(join(dir, LOCK_FOLDER))).toBe(true);
  });
});

describe('options a caller cannot read safely', () => {
  const codeOf = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      expect(error).toBeInstanceOf(ArchiveError);
      return (error as ArchiveError).code;
    }
    return undefined;
  };
  const dir = () => tempDir();

  it('a Proxy whose get trap throws is INVALID_ARGUMENT', () => {
    const options = new Proxy(
      { dir: dir() },
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    expect(codeOf(() => new ConversationArchive(options))).toBe('INVALID_ARGUMENT');
  });

  it('a Proxy whose ownKeys trap throws is INVALID_ARGUMENT', () => {
    const options = new Proxy(
      { dir: dir() },
      {
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    expect(codeOf(() => new ConversationArchive(options))).toBe('INVALID_ARGUMENT');
  });

  it('a getter that throws is INVALID_ARGUMENT', () => {
    const at = dir();
    const options = {
      dir: at,
      get ttlDays(): number {
        throw new Error('getter');
      },
    };
    expect(codeOf(() => new ConversationArchive(options))).toBe('INVALID_ARGUMENT');
  });

  it('a clock given as a Proxy whose get trap throws is INVALID_ARGUMENT', () => {
    const clock = new Proxy(
      { now: () => 0 },
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    expect(codeOf(() => new ConversationArchive({ dir: dir(), clock }))).toBe('INVALID_ARGUMENT');
  });

  it('options read through a Proxy that works are accepted', async () => {
    const options = new Proxy({ dir: dir(), ttlDays: 2 }, {});
    const archive = new ConversationArchive(options);
    await archive.appendTurn('p', { role: 'user', content: 'ok' });
    expect(await archive.loadAll('p')).toHaveLength(1);
    await archive.close();
  });
});
