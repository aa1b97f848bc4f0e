import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allLedgerFiles, LedgerWriter, ledgerFileName, ledgerFilesOfSlot, nextIndexBySession, parseLedger, readLedgers } from './ledger.js';
import { emptyVerdict, groupLedger, verifySession, type StoredSession } from './verify.js';
import { messageTag } from './workload.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lix-stress-test-'));
  dirs.push(dir);
  return dir;
}

const stored = (session: number, indexes: number[], seqs?: number[]) =>
  indexes.map((index, i) => ({ seq: seqs?.[i] ?? i + 1, content: `${messageTag(session, index, 0, 0)} body` }));

function ledgerFor(session: number, acked: number[], announcedOnly: number[] = [], failed: number[] = []) {
  const records = [
    ...acked.flatMap((index) => [
      { kind: 'intent' as const, session, index },
      { kind: 'ack' as const, session, index, seq: 0 },
    ]),
    ...announcedOnly.map((index) => ({ kind: 'intent' as const, session, index })),
    ...failed.flatMap((index) => [
      { kind: 'intent' as const, session, index },
      { kind: 'fail' as const, session, index, code: 'ARCHIVE_FAILED' },
    ]),
  ];
  return groupLedger(records).get(session);
}

function check(session: number, ledger: ReturnType<typeof ledgerFor>, history: StoredSession) {
  const verdict = emptyVerdict();
  verifySession(verdict, session, ledger, history);
  return verdict;
}

describe('verifier', () => {
  it('passes a history holding each acked message once, in order', () => {
    const verdict = check(3, ledgerFor(3, [0, 1, 2]), { full: stored(3, [0, 1, 2]), context: stored(3, [1, 2]) });
    expect(verdict).toMatchObject({ acknowledged: 3, lost: 0, duplicated: 0, outOfOrder: 0, foreign: 0, contextNotSuffix: 0 });
  });

  it('counts an acked message missing from getFull as lost', () => {
    const verdict = check(1, ledgerFor(1, [0, 1, 2]), { full: stored(1, [0, 2]) });
    expect(verdict.lost).toBe(1);
  });

  it('counts a second copy as duplicated, whether the message was acked or not', () => {
    expect(check(1, ledgerFor(1, [0, 1]), { full: stored(1, [0, 1, 1]) }).duplicated).toBe(1);
    expect(check(1, ledgerFor(1, [0], [1]), { full: stored(1, [0, 1, 1]) }).duplicated).toBe(1);
  });

  it('counts a message stored after a later one as out of order', () => {
    const verdict = check(1, ledgerFor(1, [0, 1, 2, 3]), { full: stored(1, [0, 2, 1, 3]) });
    expect(verdict.outOfOrder).toBe(1);
    expect(verdict.lost).toBe(0);
  });

  it('reports an announced-but-unacked stored message separately, not as duplicated or lost', () => {
    const verdict = check(2, ledgerFor(2, [0, 2], [1], [3]), { full: stored(2, [0, 1, 2, 3]) });
    expect(verdict).toMatchObject({ unackedStored: 2, failedCalls: 1, duplicated: 0, lost: 0, outOfOrder: 0 });
  });

  it('flags messages of another session, never announced, or untagged as foreign', () => {
    const verdict = check(2, ledgerFor(2, [0]), { full: [...stored(2, [0]), ...stored(5, [1]), ...stored(2, [7]), { seq: 9, content: 'no tag' }] });
    expect(verdict.foreign).toBe(3);
  });

  it('checks the acked seq when the API returned one', () => {
    const ledger = groupLedger([
      { kind: 'intent', session: 0, index: 0 },
      { kind: 'ack', session: 0, index: 0, seq: 4 },
    ]).get(0);
    expect(check(0, ledger, { full: stored(0, [0], [4]) }).seqMismatches).toBe(0);
    expect(check(0, ledger, { full: stored(0, [0], [5]) }).seqMismatches).toBe(1);
    const unknown = groupLedger([
      { kind: 'intent', session: 0, index: 0 },
      { kind: 'ack', session: 0, index: 0, seq: 0 },
    ]).get(0);
    expect(check(0, unknown, { full: stored(0, [0], [5]) }).seqMismatches).toBe(0);
  });

  it('requires getContext to be the tail of getFull', () => {
    expect(check(0, ledgerFor(0, [0, 1, 2]), { full: stored(0, [0, 1, 2]), context: stored(0, [0, 1]) }).contextNotSuffix).toBe(1);
    expect(check(0, ledgerFor(0, [0, 1, 2]), { full: stored(0, [0, 1, 2]), context: [] }).contextNotSuffix).toBe(0);
  });
});

describe('ledger', () => {
  it('round-trips records written one line at a time', () => {
    const dir = scratch();
    const writer = new LedgerWriter(join(dir, ledgerFileName(0, 0)));
    writer.intent(4, 0);
    writer.ack(4, 0, 1);
    writer.intent(4, 1);
    writer.fail(4, 1, 'ARCHIVE FAILED');
    writer.close();
    const parsed = readLedgers(allLedgerFiles(dir));
    expect(parsed.records).toEqual([
      { kind: 'intent', session: 4, index: 0 },
      { kind: 'ack', session: 4, index: 0, seq: 1 },
      { kind: 'intent', session: 4, index: 1 },
      { kind: 'fail', session: 4, index: 1, code: 'ARCHIVE_FAILED' },
    ]);
    expect(parsed.tornLines).toBe(0);
  });

  it('treats an unterminated last line as torn: that ack does not count', () => {
    const parsed = parseLedger('I\t1\t0\nA\t1\t0\t1\nI\t1\t1\nA\t1\t1');
    expect(parsed.tornLines).toBe(1);
    expect(parsed.corruptLines).toBe(0);
    expect(groupLedger(parsed.records).get(1)?.acked.has(1)).toBe(false);
  });

  it('counts a complete line that does not parse as corrupt', () => {
    expect(parseLedger('I\t1\t0\nZ\tx\n').corruptLines).toBe(1);
  });

  it('lets a successor resume one past the highest announced index, across generations', () => {
    const dir = scratch();
    writeFileSync(join(dir, ledgerFileName(2, 0)), 'I\t2\t0\nA\t2\t0\t1\nI\t2\t1\n');
    appendFileSync(join(dir, ledgerFileName(2, 1)), 'I\t2\t2\nA\t2\t2\t3\nI\t5\t0\nA\t5');
    writeFileSync(join(dir, ledgerFileName(3, 0)), 'I\t3\t9\n');
    const files = ledgerFilesOfSlot(dir, 2);
    expect(files.map((file) => file.slice(dir.length + 1))).toEqual(['w2.g0.ledger', 'w2.g1.ledger']);
    const next = nextIndexBySession(readLedgers(files));
    expect(next.get(2)).toBe(3);
    expect(next.get(5)).toBe(1);
    expect(next.has(3)).toBe(false);
  });
});
