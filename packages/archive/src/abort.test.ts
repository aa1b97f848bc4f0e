import { spawn, type ChildProcess } from 'node:child_process';
import { getEventListeners, setMaxListeners } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FOLDER } from './archive.js';
import { ArchiveError, ConversationArchive, copySessions, sessionFileStem } from './index.js';
import { SessionLocks } from './session-lock.js';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-abort-'));
  dirs.push(dir);
  return dir;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const turn = (content: string) => ({ role: 'user', content });
const lockDirOf = (dir: string, sessionId: string) => join(dir, LOCK_FOLDER, sessionFileStem(sessionId));
const markOf = (dir: string, sessionId: string) => join(lockDirOf(dir, sessionId), 'w');
/** The top generation file's name and content: unchanged while its holder keeps the lock. */
function holderState(dir: string, sessionId: string): { top: number; released: boolean } {
  const lockDir = lockDirOf(dir, sessionId);
  const top = Math.max(...readdirSync(lockDir).flatMap((name) => (/^g\d+$/.test(name) ? [Number(name.slice(1))] : [])));
  return { top, released: readFileSync(join(lockDir, `g${top}`), 'latin1').startsWith('D') };
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

/** Settles `promise` into its rejection and how long after `since` (performance.now) it came. */
async function rejectionAfter(promise: Promise<unknown>, since: () => number): Promise<{ error: ArchiveError; ms: number }> {
  try {
    await promise;
  } catch (error) {
    const ms = performance.now() - since();
    expect(error).toBeInstanceOf(ArchiveError);
    return { error: error as ArchiveError, ms };
  }
  throw new Error('expected a rejection');
}

/** A writer of another process holding the session's lock until `release()`. */
async function holdInChild(dir: string, sessionId: string): Promise<{ release(): Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@lix/source', join(packageDir, 'test', 'lock-holder-child.ts'), dir, sessionId], {
    cwd: packageDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  await Promise.race([
    until(() => out.includes('held\n'), 30_000),
    exited.then((code) => {
      throw new Error(`lock holder exited ${code}: ${err}`);
    }),
  ]);
  return {
    async release() {
      proc.stdin!.write('release\n');
      expect(await exited).toBe(0);
      expect(out).toContain('released\n');
    },
  };
}

describe('ConversationArchive: an append aborted while it waits for the session lock', () => {
  it('held by another process: rejects within 100 ms, stores nothing, leaves no mark, and does not disturb the holder', async () => {
    const dir = tempDir();
    const id = 'cross-process';
    const first = new ConversationArchive({ dir });
    await first.appendTurn(id, turn('first'));
    await first.close();
    const holder = await holdInChild(dir, id);
    const held = holderState(dir, id);
    const archive = new ConversationArchive({ dir });
    const controller = new AbortController();
    const reason = new Error('user went away');
    const waiting = archive.appendTurn(id, turn('never'), { signal: controller.signal });
    // It polls the lock and has left its mark for the holder.
    await until(() => existsSync(markOf(dir, id)));
    await sleep(100);
    let abortedAt = 0;
    controller.abort(reason);
    abortedAt = performance.now();
    const { error, ms } = await rejectionAfter(waiting, () => abortedAt);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    expect(ms).toBeLessThan(100);
    expect(existsSync(markOf(dir, id))).toBe(false);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The holder still holds, with the same generation.
    expect(holderState(dir, id)).toEqual({ top: held.top, released: false });
    await holder.release();
    expect((await archive.appendTurn(id, turn('next'))).seqs).toEqual([2]);
    const other = new ConversationArchive({ dir });
    expect((await other.appendTurn(id, turn('third'))).seqs).toEqual([3]);
    expect((await archive.loadAll(id)).map((t) => [t.seq, t.content])).toEqual([
      [1, 'first'],
      [2, 'next'],
      [3, 'third'],
    ]);
    await archive.close();
    await other.close();
  }, 60_000);

  it('queued behind an append of the same archive: rejects at once; the earlier append completes, the next one gets the next seq', async () => {
    const dir = tempDir();
    const id = 'queued';
    const archive = new ConversationArchive({ dir });
    await archive.appendTurn(id, turn('first'));
    await archive.close();
    const holder = await holdInChild(dir, id);
    const writer = new ConversationArchive({ dir });
    const earlier = writer.appendTurn(id, turn('earlier'));
    const controller = new AbortController();
    const queued = writer.appendTurns(id, [turn('queued-a'), turn('queued-b')], { signal: controller.signal });
    await until(() => existsSync(markOf(dir, id)));
    let abortedAt = 0;
    controller.abort();
    abortedAt = performance.now();
    const { error, ms } = await rejectionAfter(queued, () => abortedAt);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(controller.signal.reason);
    expect(ms).toBeLessThan(100);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await holder.release();
    expect((await earlier).seqs).toEqual([2]);
    expect((await writer.appendTurn(id, turn('later'))).seqs).toEqual([3]);
    expect((await writer.loadAll(id)).map((t) => t.content)).toEqual(['first', 'earlier', 'later']);
    await writer.close();
  }, 60_000);

  it('held by another instance in this process: rejects at once, no mark, the holder finishes and the next append gets the next seq', async () => {
    const dir = tempDir();
    const id = 'in-process';
    const archive = new ConversationArchive({ dir });
    await archive.appendTurn(id, turn('first'));
    await archive.close();
    const other = new SessionLocks(10_000, 3_000);
    let letGo: () => void = () => undefined;
    let holding = false;
    const held = other.withLock(lockDirOf(dir, id), async () => {
      holding = true;
      await new Promise<void>((done) => (letGo = done));
      return 'holder done';
    });
    await until(() => holding);
    const writer = new ConversationArchive({ dir, lockTimeoutMs: 30_000 });
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const waits = controllers.map((controller, i) => writer.appendTurn(id, turn(`aborted ${i}`), { signal: controller.signal }));
    await until(() => existsSync(markOf(dir, id)));
    for (const [i, controller] of controllers.entries()) {
      await sleep(20);
      const abortedAt = performance.now();
      controller.abort();
      const { error, ms } = await rejectionAfter(waits[i]!, () => abortedAt);
      expect(error.code).toBe('ABORTED');
      expect(ms).toBeLessThan(100);
    }
    expect(existsSync(markOf(dir, id))).toBe(false);
    letGo();
    expect(await held).toBe('holder done');
    other.releaseAll();
    expect((await writer.appendTurn(id, turn('next'))).seqs).toEqual([2]);
    expect((await writer.loadAll(id)).map((t) => t.content)).toEqual(['first', 'next']);
    await writer.close();
  });

  it('an abort right after the call (the lock kept idle, or queued) gives up before anything is written', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    await archive.appendTurn('kept', turn('first'));
    const controller = new AbortController();
    const call = archive.appendTurn('kept', turn('never'), { signal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await archive.appendTurn('kept', turn('second'))).seqs).toEqual([2]);
    expect((await archive.loadAll('kept')).map((t) => t.content)).toEqual(['first', 'second']);
    await archive.close();
  });

  it('many appends sharing one signal that is never aborted all succeed and leave no listener', async () => {
    const dir = tempDir();
    const stores = [new ConversationArchive({ dir }), new ConversationArchive({ dir })];
    const controller = new AbortController();
    setMaxListeners(100, controller.signal);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 2]!.appendTurn('shared', turn(`t${i}`), { signal: controller.signal })));
    expect(results.map((r) => r.seqs[0]).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    for (const store of stores) await store.close();
  });
});

describe('SessionLocks.withLockUnlessAborted', () => {
  it('once the lock is held the signal no longer counts: the body runs to its end and the call resolves', async () => {
    const dir = tempDir();
    const locks = new SessionLocks(10_000, 3_000);
    const controller = new AbortController();
    const result = await locks.withLockUnlessAborted(join(dir, 'lock'), controller.signal, async () => {
      controller.abort();
      await sleep(10);
      return 'written';
    });
    expect(result).toBe('written');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    locks.releaseAll();
  });

  it('an already-aborted signal never runs the body', async () => {
    const dir = tempDir();
    const locks = new SessionLocks(10_000, 3_000);
    let ran = false;
    await expect(
      locks.withLockUnlessAborted(join(dir, 'lock'), AbortSignal.abort(), async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(ran).toBe(false);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });
});

describe('copySessions with a signal', () => {
  it('stops between pages with ABORTED; what was copied stays, and a later run resumes', async () => {
    const from = new ConversationArchive({ dir: tempDir() });
    const to = new ConversationArchive({ dir: tempDir() });
    await from.appendTurns('one', [turn('a'), turn('b')]);
    await from.appendTurns('two', [turn('c')]);
    await expect(copySessions(from, to, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await to.sessionExists('one')).toBe(false);
    const controller = new AbortController();
    await expect(copySessions(from, to, { signal: controller.signal, onProgress: () => controller.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const copiedFirst = (await to.sessionExists('one')) ? 'one' : 'two';
    expect([await to.sessionExists('one'), await to.sessionExists('two')].filter(Boolean)).toHaveLength(1);
    const rest = await copySessions(from, to, { signal: new AbortController().signal });
    expect(rest.copied).toBe(copiedFirst === 'one' ? 1 : 2);
    expect((await to.loadAll('one')).map((t) => t.content)).toEqual(['a', 'b']);
    expect((await to.loadAll('two')).map((t) => t.content)).toEqual(['c']);
    await expect(copySessions(from, to, { signal: 'stop' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await from.close();
    await to.close();
  });
});
