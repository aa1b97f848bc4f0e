import { copyFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FILE_HEADER_SIZE, FORMAT_VERSION } from './frame.js';
import { ConversationArchive, MAX_SESSION_ID_LENGTH, assertValidSessionId, isArchiveError, sessionFileStem, type ArchiveLogger } from './index.js';

const fixtures = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'test', 'fixtures');
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-format-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('format 1 files (written by the previous release)', () => {
  const v1Id = 'format-1 Session';
  const v1Dir = () => {
    const dir = tempDir();
    for (const name of readdirSync(join(fixtures, 'format1'))) copyFileSync(join(fixtures, 'format1', name), join(dir, name));
    return dir;
  };

  it('load, list and report metadata as they are', async () => {
    const archive = new ConversationArchive({ dir: v1Dir() });
    const turns = await archive.loadAll(v1Id);
    expect(turns.map((t) => [t.seq, t.content])).toEqual(Array.from({ length: 11 }, (_, i) => [i + 1, `v1 turn ${i + 1} ${'é'.repeat(i + 1)}`]));
    expect(turns[2]!.metadata).toEqual({ i: 3 });
    expect([...turns[2]!.embedding!]).toEqual([1, 2, 3]);
    expect((await archive.loadRecent(v1Id, 3)).map((t) => t.seq)).toEqual([9, 10, 11]);
    expect((await archive.loadAfter(v1Id, 8, 2)).map((t) => t.seq)).toEqual([9, 10]);
    expect(await archive.getMetadata(v1Id)).toMatchObject({
      sessionId: v1Id,
      turnCount: 11,
      lastSeq: 11,
      format: 'lix',
      createdAt: Date.UTC(2026, 10, 1) / 1000,
    });
    const listed = [];
    for await (const meta of archive.listSessions()) listed.push(meta.sessionId);
    expect(listed).toEqual([v1Id]);
    expect(await archive.verifySession(v1Id)).toMatchObject({ ok: true, formatVersion: 1, readableTurns: 11 });
  });

  it('are upgraded to format 2 by their first append, keeping every turn and the times', async () => {
    const dir = v1Dir();
    const logger: ArchiveLogger & { infos: string[] } = { infos: [], info: (message) => logger.infos.push(message) };
    const archive = new ConversationArchive({ dir, logger });
    const before = await archive.loadAll(v1Id);
    expect((await archive.appendTurn(v1Id, { role: 'user', content: 'first in format 2' })).seqs).toEqual([12]);
    const file = join(dir, `${sessionFileStem(v1Id)}.lix`);
    expect(readFileSync(file)[4]).toBe(FORMAT_VERSION);
    const after = await archive.loadAll(v1Id);
    expect(after.slice(0, 11)).toEqual(before);
    expect(after[11]!.content).toBe('first in format 2');
    expect(await archive.getMetadata(v1Id)).toMatchObject({ turnCount: 12, lastSeq: 12, createdAt: Date.UTC(2026, 10, 1) / 1000 });
    expect(logger.infos.some((m) => m.includes('format 2'))).toBe(true);
  });
});

describe('session file names', () => {
  it('keep the format-1 name for ids that fit, so old files are found', () => {
    expect(sessionFileStem('Abc')).toBe('s-_41bc');
    expect(sessionFileStem('x'.repeat(238))).toBe(`s-${'x'.repeat(238)}`);
  });

  it('hash ids whose escaped name is too long, inside the folder, with a readable prefix', async () => {
    const root = tempDir();
    const dir = join(root, 'archive');
    const archive = new ConversationArchive({ dir });
    const ids = ['x'.repeat(300), 'ABC_'.repeat(70), `user:${'é'.repeat(150)}`, `../${'../'.repeat(150)}etc`, '😀'.repeat(MAX_SESSION_ID_LENGTH / 2)];
    for (const id of ids) await archive.appendTurn(id, { role: 'user', content: id.slice(0, 10) });
    expect(readdirSync(root)).toEqual(['archive']);
    const names = readdirSync(dir).filter((f) => f !== '.lix-locks');
    expect(names).toHaveLength(ids.length);
    for (const name of names) {
      expect(name).toMatch(/^h-[a-z0-9_-]*-[0-9a-f]{64}\.lix$/);
      expect(name.length).toBeLessThanOrEqual(255);
    }
    expect(names.some((n) => n.startsWith('h-xxxxxxxx'))).toBe(true);
    for (const id of ids) {
      expect(readFileSync(join(dir, `${sessionFileStem(id)}.lix`)).includes(Buffer.from(id, 'utf8'))).toBe(true);
      expect((await archive.loadAll(id)).map((t) => t.content)).toEqual([id.slice(0, 10)]);
    }
  });

  it("check the id stored in a hashed file: a file renamed to another id's name is CORRUPT_FILE, not that session", async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir });
    const a = 'a'.repeat(400);
    const b = 'b'.repeat(400);
    await archive.appendTurn(a, { role: 'user', content: 'belongs to a' });
    renameSync(join(dir, `${sessionFileStem(a)}.lix`), join(dir, `${sessionFileStem(b)}.lix`));
    for (const call of [
      () => archive.loadAll(b),
      () => archive.loadRecent(b, 1),
      () => archive.getMetadata(b),
      () => archive.appendTurn(b, { role: 'user', content: 'x' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ name: 'ArchiveError', code: 'CORRUPT_FILE' });
    }
  });

  it('assertValidSessionId is the one shared check, with INVALID_SESSION_ID', () => {
    expect(() => assertValidSessionId('x'.repeat(MAX_SESSION_ID_LENGTH))).not.toThrow();
    for (const bad of ['', 'x'.repeat(MAX_SESSION_ID_LENGTH + 1), 'a\uDFFF', 7, null]) {
      let caught: unknown;
      try {
        assertValidSessionId(bad);
      } catch (error) {
        caught = error;
      }
      expect(isArchiveError(caught, 'INVALID_SESSION_ID')).toBe(true);
    }
  });
});

describe('reads from the end of the file', () => {
  it('loadRecent and loadAfter of a long session never touch its first block (damage there goes unnoticed by them)', async () => {
    const dir = tempDir();
    const writer = new ConversationArchive({ dir });
    for (let i = 1; i <= 1500; i++) await writer.appendTurn('long', { role: 'user', content: `turn ${i}: ${'some words to fill the block '.repeat(4)}` });
    // The writer is done (no compaction of its still runs while the file is damaged and read).
    await writer.close();
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.lix'))!);
    const bytes = readFileSync(file);
    bytes[FILE_HEADER_SIZE + 200] = bytes[FILE_HEADER_SIZE + 200]! ^ 0xff;
    writeFileSync(file, bytes);
    const warnings: string[] = [];
    const reader = new ConversationArchive({ dir, logger: { warn: (message) => warnings.push(message) } });
    expect((await reader.loadRecent('long', 20)).map((t) => t.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 1481 + i));
    expect((await reader.loadAfter('long', 1400, 5)).map((t) => t.seq)).toEqual([1401, 1402, 1403, 1404, 1405]);
    expect(warnings).toEqual([]);
    await reader.loadAll('long');
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('constructor options', () => {
  it('bad values and unknown keys are INVALID_ARGUMENT (or INVALID_KEY), never a TypeError', () => {
    const dir = tempDir();
    const bad: [unknown, string][] = [
      [undefined, 'INVALID_ARGUMENT'],
      [null, 'INVALID_ARGUMENT'],
      ['dir', 'INVALID_ARGUMENT'],
      [{}, 'INVALID_ARGUMENT'],
      [{ dir: 5 }, 'INVALID_ARGUMENT'],
      [{ dir, ttlDays: -1 }, 'INVALID_ARGUMENT'],
      [{ dir, ttlDays: 10n }, 'INVALID_ARGUMENT'],
      [{ dir, codec: 'zstd' }, 'INVALID_ARGUMENT'],
      [{ dir, codec: 'toString' }, 'INVALID_ARGUMENT'],
      [{ dir, fsync: 'yes' }, 'INVALID_ARGUMENT'],
      [{ dir, compactAfterAppends: 0 }, 'INVALID_ARGUMENT'],
      [{ dir, compactAfterBytes: 1.5 }, 'INVALID_ARGUMENT'],
      [{ dir, lockTimeoutMs: Number.NaN }, 'INVALID_ARGUMENT'],
      [{ dir, lockStaleMs: '3s' }, 'INVALID_ARGUMENT'],
      [{ dir, clock: 5 }, 'INVALID_ARGUMENT'],
      [{ dir, clock: null }, 'INVALID_ARGUMENT'],
      [{ dir, encryptionKey: new Uint8Array(16) }, 'INVALID_KEY'],
      [{ dir, ttlDay: 3 }, 'INVALID_ARGUMENT'],
    ];
    for (const [options, code] of bad) {
      let caught: unknown;
      try {
        new ConversationArchive(options as never);
      } catch (error) {
        caught = error;
      }
      expect(
        isArchiveError(caught, code as never),
        `options ${String(options && JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))}`,
      ).toBe(true);
    }
  });
});
