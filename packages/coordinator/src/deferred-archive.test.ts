import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive, isArchiveError } from '@lix/archive';
import { afterEach, describe, expect, it } from 'vitest';
import { DeferredArchiveStore } from './deferred-archive.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('DeferredArchiveStore', () => {
  it("passes the appends' options to the store it opens: an aborted signal is ABORTED, an unknown key INVALID_ARGUMENT", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lix-deferred-'));
    dirs.push(dir);
    const store = new DeferredArchiveStore(async () => new ConversationArchive({ dir }));
    const reason = new Error('gone');
    const aborted = await store.appendTurn('s', { role: 'user', content: 'never' }, { signal: AbortSignal.abort(reason) }).catch((error: unknown) => error);
    expect(isArchiveError(aborted, 'ABORTED')).toBe(true);
    expect((aborted as Error).cause).toBe(reason);
    const unknown = await store.appendTurns('s', [{ role: 'user', content: 'never' }], { nope: 1 } as never).catch((error: unknown) => error);
    expect(isArchiveError(unknown, 'INVALID_ARGUMENT')).toBe(true);
    expect(await store.sessionExists('s')).toBe(false);
    const live = new AbortController().signal;
    expect((await store.appendTurn('s', { role: 'user', content: 'one' }, { signal: live })).seqs).toEqual([1]);
    expect((await store.appendTurns('s', [{ role: 'user', content: 'two' }], { signal: live })).seqs).toEqual([2]);
    await store.close();
  });
});
