import type { LedgerRecord } from './ledger.js';
import { parseMessageTag } from './workload.js';

/**
 * The verdict on one topology's data. Definitions (per session; a message is identified
 * by the `(session, index)` tag its content carries):
 *
 * - acknowledged: an `A` record exists in the ledger.
 * - lost: acknowledged, and absent from `getFull()`.
 * - duplicated: every stored copy of a message beyond its first (acked or not).
 * - out of order: a stored message whose index is lower than the index of a message stored
 *   before it in `getFull()`. One writer owns a session at a time and writes its messages
 *   one after another, so index order is the ack order.
 * - unacked but stored: announced (`I`), never acked, yet stored: the worker was killed
 *   during the call, or the call rejected (`F`) after the write reached the archive. Not a loss,
 *   not a duplicate; reported separately.
 * - foreign: a stored message whose tag is missing, names another session, or was never announced.
 * - seq mismatches: the `seq` returned to the acked `addMessage` differs from the stored one.
 * - context not a suffix: `getContext()` is not the tail of `getFull()`.
 */
export interface Verdict {
  sessions: number;
  acknowledged: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** addMessage calls that rejected (not acknowledged). */
  failedCalls: number;
  /** Unacked messages that are stored anyway, killed in flight or failed calls. */
  unackedStored: number;
  foreign: number;
  seqMismatches: number;
  contextNotSuffix: number;
  storedMessages: number;
  /** Examples of each problem, for the report (at most a few). */
  examples: string[];
}

/** What the system returned for one session. */
export interface StoredSession {
  full: readonly { seq: number; content: string }[];
  /** `undefined` when the context check was not made. */
  context?: readonly { content: string }[];
}

/** An empty verdict, to add sessions to. */
export function emptyVerdict(): Verdict {
  return {
    sessions: 0,
    acknowledged: 0,
    lost: 0,
    duplicated: 0,
    outOfOrder: 0,
    failedCalls: 0,
    unackedStored: 0,
    foreign: 0,
    seqMismatches: 0,
    contextNotSuffix: 0,
    storedMessages: 0,
    examples: [],
  };
}

const MAX_EXAMPLES = 12;

function note(verdict: Verdict, text: string): void {
  if (verdict.examples.length < MAX_EXAMPLES) verdict.examples.push(text);
}

/** Per-session ledger facts, merged from every worker incarnation's file. */
export interface SessionLedger {
  announced: Set<number>;
  acked: Map<number, number>;
  failed: Set<number>;
}

/** Groups ledger records by session number. */
export function groupLedger(records: readonly LedgerRecord[]): Map<number, SessionLedger> {
  const bySession = new Map<number, SessionLedger>();
  for (const record of records) {
    let entry = bySession.get(record.session);
    if (!entry) {
      entry = { announced: new Set(), acked: new Map(), failed: new Set() };
      bySession.set(record.session, entry);
    }
    if (record.kind === 'intent') entry.announced.add(record.index);
    else if (record.kind === 'ack') entry.acked.set(record.index, record.seq);
    else entry.failed.add(record.index);
  }
  return bySession;
}

/** Checks one session's stored history against its ledger and adds the findings to `verdict`. */
export function verifySession(verdict: Verdict, session: number, ledger: SessionLedger | undefined, stored: StoredSession): void {
  const facts = ledger ?? { announced: new Set<number>(), acked: new Map<number, number>(), failed: new Set<number>() };
  verdict.sessions++;
  verdict.acknowledged += facts.acked.size;
  verdict.failedCalls += facts.failed.size;
  verdict.storedMessages += stored.full.length;

  const seen = new Map<number, number>();
  let highest = -1;
  for (const message of stored.full) {
    const tag = parseMessageTag(message.content);
    if (!tag || tag.session !== session || !facts.announced.has(tag.index)) {
      verdict.foreign++;
      note(verdict, `session ${session}: foreign message ${JSON.stringify(message.content.slice(0, 60))}`);
      continue;
    }
    const copies = (seen.get(tag.index) ?? 0) + 1;
    seen.set(tag.index, copies);
    if (copies > 1) {
      verdict.duplicated++;
      note(verdict, `session ${session}: message ${tag.index} stored ${copies} times`);
      continue;
    }
    if (tag.index < highest) {
      verdict.outOfOrder++;
      note(verdict, `session ${session}: message ${tag.index} stored after message ${highest}`);
    }
    highest = Math.max(highest, tag.index);
    const ackedSeq = facts.acked.get(tag.index);
    if (ackedSeq === undefined) verdict.unackedStored++;
    // Seqs start at 1; an ack recorded with 0 means the API did not return the seq.
    else if (ackedSeq !== 0 && ackedSeq !== message.seq) {
      verdict.seqMismatches++;
      note(verdict, `session ${session}: message ${tag.index} acked with seq ${ackedSeq}, stored with seq ${message.seq}`);
    }
  }
  for (const index of facts.acked.keys()) {
    if (!seen.has(index)) {
      verdict.lost++;
      note(verdict, `session ${session}: acknowledged message ${index} is missing from getFull()`);
    }
  }
  if (stored.context !== undefined && !isSuffix(stored.context, stored.full)) {
    verdict.contextNotSuffix++;
    note(verdict, `session ${session}: getContext() (${stored.context.length} messages) is not the tail of getFull() (${stored.full.length})`);
  }
}

function isSuffix(tail: readonly { content: string }[], whole: readonly { content: string }[]): boolean {
  if (tail.length > whole.length) return false;
  const offset = whole.length - tail.length;
  return tail.every((message, i) => message.content === whole[offset + i]!.content);
}

/** Adds `other` into `into` (for totals over topologies). */
export function mergeVerdicts(into: Verdict, other: Verdict): Verdict {
  for (const key of Object.keys(into) as (keyof Verdict)[]) {
    if (key === 'examples') continue;
    (into[key] as number) += other[key] as number;
  }
  for (const example of other.examples) note(into, example);
  return into;
}
