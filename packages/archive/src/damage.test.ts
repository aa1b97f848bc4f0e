import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCorpus } from '@lix/test-utils';
import { decodeTurnsPayload } from './block-codec.js';
import { FILE_HEADER_SIZE, FrameKind, scanFrames } from './frame.js';
import { ArchiveError, ConversationArchive, type ArchiveLogger, type ArchivedTurn } from './index.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-archive-damage-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const strip = (turns: ArchivedTurn[]) => turns.map(({ seq, role, content, timestamp, metadata }) => ({ seq, role, content, timestamp, metadata }));

/** Which seqs each intact frame of a pristine file holds, by byte range. */
function frameMap(file: Buffer): { start: number; end: number; seqs: number[] }[] {
  return scanFrames(file)
    .frames.filter((f) => f.kind === FrameKind.Turns || f.kind === FrameKind.Block)
    .map((f) => ({ start: f.offset, end: f.end, seqs: decodeTurnsPayload(f.payload, false, undefined).map((t) => t.seq) }));
}

function recordingLogger(): ArchiveLogger & { warnings: { message: string; context?: Record<string, unknown> }[] } {
  const warnings: { message: string; context?: Record<string, unknown> }[] = [];
  return { warnings, warn: (message, context) => warnings.push({ message, ...(context ? { context } : {}) }) };
}

async function writeSession(dir: string, count: number, options: { compactAfterAppends?: number } = {}) {
  const archive = new ConversationArchive({ dir, compactAfterAppends: options.compactAfterAppends ?? 4 });
  const turns = loadCorpus()
    .find((c) => c.turns.length >= 60)!
    .turns.slice(0, count);
  for (const turn of turns) await archive.appendTurn('z', turn);
  const all = await archive.loadAll('z');
  const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.lix'))!);
  return { archive, all, file, pristine: readFileSync(file) };
}

describe('a damaged frame costs that frame only', () => {
  it('a flipped bit at any of 400 offsets loses only the turns of the frame it hits; all others load', async () => {
    const dir = tempDir();
    const { all, file, pristine } = await writeSession(dir, 30);
    const frames = frameMap(pristine);
    let seed = 4242;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const logger = recordingLogger();
    const reader = new ConversationArchive({ dir, logger });
    for (let trial = 0; trial < 400; trial++) {
      const position = FILE_HEADER_SIZE + Math.floor(random() * (pristine.length - FILE_HEADER_SIZE));
      const damaged = Buffer.from(pristine);
      damaged[position] = damaged[position]! ^ (1 << Math.floor(random() * 8));
      writeFileSync(file, damaged);
      const hit = new Set(frames.filter((f) => position >= f.start && position < f.end).flatMap((f) => f.seqs));
      const expected = strip(all).filter((t) => !hit.has(t.seq));
      expect(strip(await reader.loadAll('z')), `flip at ${position}`).toEqual(expected);
      expect(strip(await reader.loadRecent('z', 5)), `loadRecent after flip at ${position}`).toEqual(expected.slice(-5));
      expect(strip(await reader.loadAfter('z', 10)), `loadAfter after flip at ${position}`).toEqual(expected.filter((t) => t.seq > 10));
    }
    expect(logger.warnings.some((w) => /damaged/.test(w.message) && Array.isArray(w.context?.ranges))).toBe(true);
  });

  it('a file cut at any of 200 lengths loads every frame that ends before the cut', async () => {
    const dir = tempDir();
    const { all, file, pristine } = await writeSession(dir, 30);
    const frames = frameMap(pristine);
    const reader = new ConversationArchive({ dir });
    for (let trial = 0; trial < 200; trial++) {
      const cut = FILE_HEADER_SIZE + Math.floor(((pristine.length - FILE_HEADER_SIZE) * trial) / 200);
      writeFileSync(file, pristine.subarray(0, cut));
      const kept = new Set(frames.filter((f) => f.end <= cut).flatMap((f) => f.seqs));
      expect(strip(await reader.loadAll('z')), `cut at ${cut}`).toEqual(strip(all).filter((t) => kept.has(t.seq)));
    }
  });

  it('a byte inserted or a stretch zeroed mid-file keeps every frame outside the damage', async () => {
    const dir = tempDir();
    const { all, file, pristine } = await writeSession(dir, 40);
    const frames = frameMap(pristine);
    const reader = new ConversationArchive({ dir });
    for (let trial = 0; trial < 60; trial++) {
      const position = FILE_HEADER_SIZE + Math.floor(((pristine.length - FILE_HEADER_SIZE - 64) * trial) / 60);
      const inserted = Buffer.concat([pristine.subarray(0, position), Buffer.from([0x5a]), pristine.subarray(position)]);
      writeFileSync(file, inserted);
      const hit = new Set(frames.filter((f) => position > f.start && position < f.end).flatMap((f) => f.seqs));
      expect(strip(await reader.loadAll('z')), `insert at ${position}`).toEqual(strip(all).filter((t) => !hit.has(t.seq)));
      const zeroed = Buffer.from(pristine);
      zeroed.fill(0, position, position + 64);
      writeFileSync(file, zeroed);
      const hitZero = new Set(frames.filter((f) => f.start < position + 64 && f.end > position).flatMap((f) => f.seqs));
      expect(strip(await reader.loadAll('z')), `zeroed at ${position}`).toEqual(strip(all).filter((t) => !hitZero.has(t.seq)));
    }
  });

  it('a damaged header is a typed error, never wrong data', async () => {
    const dir = tempDir();
    const { file, pristine } = await writeSession(dir, 10);
    for (let position = 0; position < FILE_HEADER_SIZE; position++) {
      const damaged = Buffer.from(pristine);
      damaged[position] = damaged[position]! ^ 0x01;
      writeFileSync(file, damaged);
      try {
        const loaded = await new ConversationArchive({ dir }).loadAll('z');
        // Only the reserved bytes may change without notice.
        expect(position >= 6 && loaded.length === 10).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(ArchiveError);
      }
    }
  });
});

describe('appends after damage', () => {
  it('are acknowledged, readable, counted, and keep the intact turns before and after the damage', async () => {
    const dir = tempDir();
    const { all, file, pristine } = await writeSession(dir, 24, { compactAfterAppends: 4 });
    const frames = frameMap(pristine);
    const victim = frames[Math.floor(frames.length / 2)]!;
    const damaged = Buffer.from(pristine);
    damaged[victim.start + 30] = damaged[victim.start + 30]! ^ 0x10;
    writeFileSync(file, damaged);
    const logger = recordingLogger();
    const archive = new ConversationArchive({ dir, compactAfterAppends: 4, logger });
    const acked: number[] = [];
    for (let i = 0; i < 30; i++) acked.push((await archive.appendTurn('z', { role: 'user', content: `after damage ${i}` })).seqs[0]!);
    expect(acked).toEqual(Array.from({ length: 30 }, (_, i) => 25 + i));
    const loaded = await archive.loadAll('z');
    const lost = new Set(victim.seqs);
    expect(strip(loaded)).toEqual([...strip(all).filter((t) => !lost.has(t.seq)), ...strip(loaded).slice(-30)]);
    expect(loaded.slice(-30).map((t) => t.content)).toEqual(Array.from({ length: 30 }, (_, i) => `after damage ${i}`));
    expect((await archive.loadRecent('z', 3)).map((t) => t.seq)).toEqual([52, 53, 54]);
    expect((await archive.getMetadata('z'))?.lastSeq).toBe(54);
    const report = await archive.verifySession('z');
    expect(report.ok).toBe(false);
    expect(report.damaged).toEqual([{ start: victim.start, end: victim.end }]);
    expect(report.readableTurns).toBe(54 - lost.size);
  });

  it('after a cut file (torn append) the next append truncates the torn bytes and continues from the last readable seq', async () => {
    const dir = tempDir();
    const { file, pristine } = await writeSession(dir, 12, { compactAfterAppends: 100 });
    writeFileSync(file, pristine.subarray(0, pristine.length - 70));
    const archive = new ConversationArchive({ dir, compactAfterAppends: 100 });
    const before = await archive.loadAll('z');
    const result = await archive.appendTurn('z', { role: 'user', content: 'after the cut' });
    expect(result.seqs).toEqual([before.at(-1)!.seq + 1]);
    expect((await archive.loadAll('z')).map((t) => t.seq)).toEqual([...before.map((t) => t.seq), result.seqs[0]]);
    expect((await archive.verifySession('z')).ok).toBe(true);
  });

  it('a damaged last META frame is rebuilt by the next append from the readable turns', async () => {
    const dir = tempDir();
    const { all, file, pristine } = await writeSession(dir, 10, { compactAfterAppends: 100 });
    const damaged = Buffer.from(pristine);
    damaged[damaged.length - 30] = damaged[damaged.length - 30]! ^ 0xff;
    writeFileSync(file, damaged);
    const archive = new ConversationArchive({ dir, compactAfterAppends: 100 });
    expect(await archive.getMetadata('z')).toMatchObject({ turnCount: 10, lastSeq: 10 });
    expect((await archive.appendTurn('z', { role: 'user', content: 'next' })).seqs).toEqual([11]);
    expect(strip((await archive.loadAll('z')).slice(0, 10))).toEqual(strip(all));
    expect(await archive.getMetadata('z')).toMatchObject({ turnCount: 11, lastSeq: 11 });
  });
});
