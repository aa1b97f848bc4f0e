import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The per-worker ledger: the harness's own record of what the system acknowledged.
 *
 * One file per worker incarnation (`w<slot>.g<generation>.ledger`), so a worker killed
 * in the middle of a write leaves a torn last line in its own file only, never glued to
 * the first line of its successor. Each record is one `writeSync` of one line:
 *
 * - `I <session> <index>`: about to call `addMessage` for message `index` of the session
 *   (written BEFORE the call, so a restarted worker never reuses an index that may be stored).
 * - `A <session> <index> <seq>`: `addMessage` resolved with `seq`; written before the
 *   worker reports success anywhere else, so the ledger is the ack order.
 * - `F <session> <index> <code>`: `addMessage` rejected; the message is not acknowledged
 *   and may or may not be stored.
 *
 * Fields are separated by tabs; session is the session number, not its id.
 */
export type LedgerRecord =
  | { kind: 'intent'; session: number; index: number }
  | { kind: 'ack'; session: number; index: number; seq: number }
  | { kind: 'fail'; session: number; index: number; code: string };

/** File name of a worker incarnation's ledger. */
export function ledgerFileName(slot: number, generation: number): string {
  return `w${slot}.g${generation}.ledger`;
}

/** Appends records with one `write` per record; synchronous so that the ack is on record before anything else runs. */
export class LedgerWriter {
  readonly #fd: number;
  #closed = false;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  intent(session: number, index: number): void {
    this.#write(`I\t${session}\t${index}\n`);
  }

  ack(session: number, index: number, seq: number): void {
    this.#write(`A\t${session}\t${index}\t${seq}\n`);
  }

  fail(session: number, index: number, code: string): void {
    this.#write(`F\t${session}\t${index}\t${code.replace(/\s+/g, '_') || 'UNKNOWN'}\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #write(line: string): void {
    const bytes = Buffer.from(line, 'utf8');
    let offset = 0;
    // A regular-file write is not split in practice, but a short write must not leave a torn record behind.
    while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
  }
}

/** What {@link parseLedger} makes of one file. */
export interface ParsedLedger {
  records: LedgerRecord[];
  /** 1 when the file ends with an unterminated line (the worker died while writing it). */
  tornLines: number;
  /** Complete lines that do not parse: never written by a correct worker. */
  corruptLines: number;
}

function parseLine(line: string): LedgerRecord | undefined {
  const parts = line.split('\t');
  const session = Number(parts[1]);
  const index = Number(parts[2]);
  if (!Number.isSafeInteger(session) || !Number.isSafeInteger(index) || session < 0 || index < 0) return undefined;
  if (parts[0] === 'I' && parts.length === 3) return { kind: 'intent', session, index };
  if (parts[0] === 'A' && parts.length === 4) {
    const seq = Number(parts[3]);
    if (!Number.isFinite(seq)) return undefined;
    return { kind: 'ack', session, index, seq };
  }
  if (parts[0] === 'F' && parts.length === 4 && parts[3]) return { kind: 'fail', session, index, code: parts[3] };
  return undefined;
}

/** Parses a ledger's text; an unterminated last line counts as torn (that record was not acknowledged). */
export function parseLedger(text: string): ParsedLedger {
  const records: LedgerRecord[] = [];
  let tornLines = 0;
  let corruptLines = 0;
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== undefined && last !== '') tornLines = 1;
  for (const line of lines) {
    const record = parseLine(line);
    if (record) records.push(record);
    else corruptLines++;
  }
  return { records, tornLines, corruptLines };
}

/** Ledger files of one worker slot (every generation), oldest generation first. */
export function ledgerFilesOfSlot(dir: string, slot: number): string[] {
  if (!existsSync(dir)) return [];
  const pattern = new RegExp(`^w${slot}\\.g(\\d+)\\.ledger$`);
  return readdirSync(dir)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((entry) => entry.match !== null)
    .sort((a, b) => Number(a.match![1]) - Number(b.match![1]))
    .map((entry) => join(dir, entry.name));
}

/** Every ledger file in `dir`, grouped by nothing: the verifier merges them per session. */
export function allLedgerFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^w\d+\.g\d+\.ledger$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Reads and parses many ledger files; records keep file order, files in the given order. */
export function readLedgers(files: readonly string[]): ParsedLedger {
  const merged: ParsedLedger = { records: [], tornLines: 0, corruptLines: 0 };
  for (const file of files) {
    const parsed = parseLedger(readFileSync(file, 'utf8'));
    merged.records.push(...parsed.records);
    merged.tornLines += parsed.tornLines;
    merged.corruptLines += parsed.corruptLines;
  }
  return merged;
}

/**
 * Where a restarted worker resumes each of its sessions: one past the highest index it
 * ever announced (an announced message may be stored even though it was never acked).
 */
export function nextIndexBySession(parsed: ParsedLedger): Map<number, number> {
  const next = new Map<number, number>();
  for (const record of parsed.records) {
    const candidate = record.index + 1;
    if ((next.get(record.session) ?? 0) < candidate) next.set(record.session, candidate);
  }
  return next;
}
