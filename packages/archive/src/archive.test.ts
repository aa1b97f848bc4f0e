import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { legacyHuffDir, loadCorpus } from '@lix/test-utils';
import { ConversationArchive, type ArchivedTurn } from './index.js';
import { ArchiveError } from './errors.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const strip = (turns: ArchivedTurn[]) => turns.map(({ role, content, timestamp, metadata }) => ({ role, content, timestamp, metadata }));

describe('ConversationArchive API', () => {
  it('appends and loads turns in order with seqs 1..n', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    await archive.appendTurn('s1', { role: 'user', content: 'hello', timestamp: 1 });
    await archive.appendTurns('s1', [
      { role: 'assistant', content: 'hi!', timestamp: 2 },
      { role: 'user', content: 'how are you', timestamp: 3, metadata: { lang: 'en' } },
    ]);
    const turns = await archive.loadAll('s1');
    expect(turns.map((t) => [t.seq, t.role, t.content])).toEqual([
      [1, 'user', 'hello'],
      [2, 'assistant', 'hi!'],
      [3, 'user', 'how are you'],
    ]);
    expect(turns[2]!.metadata).toEqual({ lang: 'en' });
    expect((await archive.loadRecent('s1', 2)).map((t) => t.seq)).toEqual([2, 3]);
    expect(await archive.loadAll('unknown')).toEqual([]);
  });

  it('keeps every corpus turn identical across many compactions, for each codec', async () => {
    const conversation = loadCorpus().find((c) => c.turns.length >= 60)!;
    for (const codec of ['brotli', 'deflate', 'huffman'] as const) {
      const archive = new ConversationArchive({ dir: tempDir(), codec });
      for (const turn of conversation.turns) await archive.appendTurn('c', turn);
      expect(strip(await archive.loadAll('c'))).toEqual(conversation.turns);
      const meta = await archive.getMetadata('c');
      expect(meta).toMatchObject({ turnCount: conversation.turns.length, lastSeq: conversation.turns.length, format: 'lix' });
    }
  });

  it('stores embeddings as float32 and ranks them by cosine', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    await archive.appendTurns('e', [
      { role: 'user', content: 'a', embedding: [1, 0, 0] },
      { role: 'user', content: 'b', embedding: new Float32Array([0, 1, 0]) },
      { role: 'user', content: 'c' },
    ]);
    const loaded = await archive.loadAll('e');
    expect(loaded[1]!.embedding).toBeInstanceOf(Float32Array);
    expect([...loaded[1]!.embedding!]).toEqual([0, 1, 0]);
    const hits = await archive.searchByEmbedding('e', [0.1, 0.9, 0], 2);
    expect(hits.map((h) => h.turn.content)).toEqual(['b', 'a']);
  });

  it('ranks text matches by BM25, rare terms above common ones', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    await archive.appendTurns('t', [
      { role: 'user', content: 'the weather in tokyo is sunny' },
      { role: 'user', content: 'the the the the' },
      { role: 'user', content: 'tokyo tokyo tower' },
      { role: 'user', content: 'nothing relevant' },
    ]);
    const hits = await archive.searchByText('t', 'tokyo tower', 3);
    expect(hits.map((h) => h.turn.seq)).toEqual([3, 1]);
  });

  it('reports metadata without decompressing and deletes sessions', async () => {
    const archive = new ConversationArchive({ dir: tempDir(), clock: { now: () => 1_000_000 } });
    await archive.appendTurn('m', { role: 'user', content: 'x' });
    const meta = await archive.getMetadata('m');
    expect(meta).toMatchObject({ sessionId: 'm', createdAt: 1000, updatedAt: 1000, turnCount: 1, lastSeq: 1 });
    expect(meta!.sizeBytes).toBeGreaterThan(0);
    expect(await archive.sessionExists('m')).toBe(true);
    expect(await archive.deleteSession('m')).toBe(true);
    expect(await archive.sessionExists('m')).toBe(false);
    expect(await archive.getMetadata('m')).toBeNull();
  });

  it('streams sessions and removes the expired ones by TTL', async () => {
    let now = 0;
    const archive = new ConversationArchive({ dir: tempDir(), ttlDays: 1, clock: { now: () => now } });
    await archive.appendTurn('old', { role: 'user', content: 'x' });
    now = 2 * 86_400_000;
    await archive.appendTurn('New Session/1', { role: 'user', content: 'y' });
    const ids: string[] = [];
    for await (const meta of archive.listSessions()) ids.push(meta.sessionId);
    expect(ids.sort()).toEqual(['New Session/1', 'old']);
    expect(await archive.cleanupExpired()).toBe(1);
    expect(await archive.sessionExists('old')).toBe(false);
    expect(await archive.sessionExists('New Session/1')).toBe(true);
  });

  it('rejects bad turns and arguments with typed errors', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    const bad: unknown[] = [
      null,
      { role: '', content: 'x' },
      { role: 'u', content: 5 },
      { role: 'u', content: 'x', metadata: [] },
      { role: 'u', content: 'x', embedding: 'v' },
      { role: 'u', content: 'x', seq: -1 },
    ];
    for (const turn of bad) {
      await expect(archive.appendTurn('b', turn as never)).rejects.toMatchObject({ name: 'ArchiveError', code: 'INVALID_TURN' });
    }
    await expect(archive.loadRecent('b', -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new ConversationArchive({ dir: tempDir(), encryptionKey: new Uint8Array(5) })).toThrow(ArchiveError);
    await archive.close();
    await expect(archive.loadAll('b')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('sequence rules', () => {
  it('assigns, skips and accepts explicit seqs so retries are idempotent', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    expect(
      await archive.appendTurns('q', [
        { role: 'u', content: 'a' },
        { role: 'u', content: 'b' },
      ]),
    ).toEqual({ appended: 2, skipped: 0, lastSeq: 2, seqs: [1, 2] });
    expect(
      await archive.appendTurns('q', [
        { role: 'u', content: 'b again', seq: 2 },
        { role: 'u', content: 'c', seq: 3 },
      ]),
    ).toEqual({ appended: 1, skipped: 1, lastSeq: 3, seqs: [2, 3] });
    expect(await archive.appendTurn('q', { role: 'u', content: 'e', seq: 5 })).toEqual({ appended: 1, skipped: 0, lastSeq: 5, seqs: [5] });
    expect(await archive.appendTurn('q', { role: 'u', content: 'f' })).toMatchObject({ lastSeq: 6, seqs: [6] });
    expect((await archive.loadAll('q')).map((t) => [t.seq, t.content])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [5, 'e'],
      [6, 'f'],
    ]);
  });

  it('serialises 100 concurrent appends in one process without loss', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => archive.appendTurn('p', { role: 'u', content: `m${i}` })));
    expect(new Set(results.map((r) => r.seqs[0])).size).toBe(100);
    const turns = await archive.loadAll('p');
    expect(turns.map((t) => t.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(new Set(turns.map((t) => t.content)).size).toBe(100);
  });
});

describe('legacy .huff files from the Python original', () => {
  const names = ['short-chat', 'medium-chat', 'long-research', 'support-thread'];

  it.each(names)('%s loads with identical turns and metadata, then migrates in place', async (name) => {
    const dir = tempDir();
    copyFileSync(join(legacyHuffDir, 'archives', `${name}.huff`), join(dir, `${name}.huff`));
    const expected = JSON.parse(readFileSync(join(legacyHuffDir, 'expected', `${name}.json`), 'utf8'));
    const expectedMeta = JSON.parse(readFileSync(join(legacyHuffDir, 'expected', `${name}.meta.json`), 'utf8'));
    const archive = new ConversationArchive({ dir });
    const turns = await archive.loadAll(name);
    expect(turns.map(({ seq, embedding, ...rest }) => ({ ...rest, ...(embedding ? { embedding: [...embedding] } : {}) }))).toEqual(
      expected.map((t: Record<string, unknown>) => (Array.isArray(t.embedding) ? { ...t, embedding: [...Float32Array.from(t.embedding as number[])] } : t)),
    );
    const meta = await archive.getMetadata(name);
    expect(meta).toMatchObject({
      createdAt: expectedMeta.created_at,
      updatedAt: expectedMeta.updated_at,
      turnCount: expectedMeta.num_turns,
      sizeBytes: expectedMeta.size_bytes,
      format: 'legacy-huff',
    });
    expect(await archive.migrateLegacy(name)).toBe(true);
    expect(readdirSync(dir).some((f) => f.endsWith('.huff'))).toBe(false);
    expect(await archive.loadAll(name)).toEqual(turns);
    expect(await archive.getMetadata(name)).toMatchObject({
      createdAt: expectedMeta.created_at,
      updatedAt: expectedMeta.updated_at,
      turnCount: expectedMeta.num_turns,
      format: 'lix',
    });
    await archive.appendTurn(name, { role: 'user', content: 'after migration' });
    expect((await archive.loadAll(name)).at(-1)).toMatchObject({ seq: expectedMeta.num_turns + 1, content: 'after migration' });
  });
});

describe('session ids never escape the archive folder', () => {
  it('maps hostile ids to files inside the folder, keeping case pairs apart', async () => {
    const root = tempDir();
    const dir = join(root, 'archive');
    const archive = new ConversationArchive({ dir });
    const ids = [
      '../x',
      '../../etc/passwd',
      '/etc/passwd',
      'a/b',
      'a\\b',
      '.',
      '..',
      'CON',
      'nul',
      'Abc',
      'abc',
      'ünïcødé 🎉',
      'a\u0000b',
      'x'.repeat(80),
      '_',
      '_5f',
    ];
    for (const [i, id] of ids.entries()) await archive.appendTurn(id, { role: 'u', content: `turn ${i}` });
    for (const [i, id] of ids.entries()) expect((await archive.loadAll(id)).map((t) => t.content)).toEqual([`turn ${i}`]);
    expect(readdirSync(root)).toEqual(['archive']);
    const files = readdirSync(dir).filter((f) => f !== '.lix-locks');
    expect(files).toHaveLength(ids.length);
    expect(files.every((f) => /^s-[a-z0-9_-]+\.lix$/.test(f))).toBe(true);
    const listed: string[] = [];
    for await (const meta of archive.listSessions()) listed.push(meta.sessionId);
    expect(listed.sort()).toEqual([...ids].sort());
  });

  it('rejects empty, non-string, over-long and lone-surrogate ids', async () => {
    const archive = new ConversationArchive({ dir: tempDir() });
    for (const id of ['', 'x'.repeat(10_000), 'a\uD800b', 42, null]) {
      await expect(archive.appendTurn(id as string, { role: 'u', content: 'x' })).rejects.toMatchObject({ code: 'INVALID_SESSION_ID' });
    }
  });
});

describe('encryption at rest', () => {
  it('round-trips with the key, and a wrong or missing key is a typed error', async () => {
    const dir = tempDir();
    const key = new Uint8Array(32).fill(7);
    const archive = new ConversationArchive({ dir, encryptionKey: key });
    for (let i = 0; i < 20; i++) await archive.appendTurn('secret', { role: 'u', content: `confidential ${i}` });
    expect((await archive.loadAll('secret')).map((t) => t.content)).toEqual(Array.from({ length: 20 }, (_, i) => `confidential ${i}`));
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.lix'))!);
    expect(readFileSync(file).includes(Buffer.from('confidential'))).toBe(false);
    const wrong = new ConversationArchive({ dir, encryptionKey: new Uint8Array(32).fill(8) });
    await expect(wrong.loadAll('secret')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    await expect(new ConversationArchive({ dir }).loadAll('secret')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });
});

describe('corruption', () => {
  it('drops a torn tail on the next append and keeps every complete record', async () => {
    const dir = tempDir();
    const archive = new ConversationArchive({ dir, compactAfterAppends: 1000, compactAfterBytes: 1e9 });
    for (let i = 0; i < 5; i++) await archive.appendTurn('torn', { role: 'u', content: `m${i}` });
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.lix'))!);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 20));
    expect((await archive.loadAll('torn')).map((t) => t.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    await archive.appendTurn('torn', { role: 'u', content: 'm5' });
    expect((await archive.loadAll('torn')).map((t) => [t.seq, t.content])).toEqual([
      [1, 'm0'],
      [2, 'm1'],
      [3, 'm2'],
      [4, 'm3'],
      [5, 'm4'],
      [6, 'm5'],
    ]);
    expect(await archive.getMetadata('torn')).toMatchObject({ turnCount: 6, lastSeq: 6 });
  });
});
