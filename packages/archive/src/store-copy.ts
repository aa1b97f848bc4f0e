import { ConversationArchive } from './archive.js';
import { throwIfAborted } from './abort.js';
import { ArchiveError } from './errors.js';
import type { ArchiveStore } from './store.js';

/** Turns read and written per step of {@link copySessions}. */
const PAGE = 500;

/** Totals of {@link copySessions}. */
export interface CopyResult {
  sessions: number;
  /** Turns written to the destination. */
  copied: number;
  /** Turns the destination already held (a re-run, or a resumed copy). */
  skipped: number;
}

/** Progress after each session of {@link copySessions}. */
export interface CopyProgress extends CopyResult {
  sessionId: string;
  /** Sessions in the source, when known up front. */
  total: number | undefined;
}

/**
 * Copies every session of `from` into `to` with the turns' own seqs, so the copy is
 * idempotent: a turn whose seq the destination already holds is skipped, and a second
 * run (or a run resumed after a crash) copies nothing twice. Reads O(page) at a time.
 * `signal` stops the copy between pages and is passed to each append: it rejects with
 * `ABORTED`, every page copied before stays copied, and a later run resumes where it stopped.
 */
export async function copySessions(
  from: ArchiveStore,
  to: ArchiveStore,
  options: { onProgress?: (progress: CopyProgress) => void; total?: number; signal?: AbortSignal } = {},
): Promise<CopyResult> {
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new ArchiveError('INVALID_ARGUMENT', 'copySessions option signal must be an AbortSignal');
  const result: CopyResult = { sessions: 0, copied: 0, skipped: 0 };
  for await (const meta of from.listSessions()) {
    const already = (await to.getMetadata(meta.sessionId))?.lastSeq ?? 0;
    let after = 0;
    for (;;) {
      throwIfAborted(signal);
      const turns = await from.loadAfter(meta.sessionId, after, PAGE);
      if (turns.length === 0) break;
      after = turns[turns.length - 1]!.seq;
      const fresh = turns.filter((turn) => turn.seq > already);
      result.skipped += turns.length - fresh.length;
      if (fresh.length > 0) {
        const appended = await to.appendTurns(meta.sessionId, fresh, signal === undefined ? undefined : { signal });
        result.copied += appended.appended;
        result.skipped += appended.skipped;
      }
      if (turns.length < PAGE) break;
    }
    result.sessions++;
    options.onProgress?.({ ...result, sessionId: meta.sessionId, total: options.total });
  }
  return result;
}

/**
 * Opens a store from a folder path or a `postgres://` URL. The PostgreSQL store is
 * imported only for a URL, so a file-only install never loads `pg`.
 */
export async function openStore(
  location: string,
  options: { schema?: string; ttlDays?: number } = {},
): Promise<ArchiveStore & { migrate?: () => Promise<unknown> }> {
  if (typeof location !== 'string' || location === '') throw new ArchiveError('INVALID_ARGUMENT', 'a store location is a folder or a postgres:// URL');
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { PostgresArchiveStore } = await import('./postgres/index.js');
    return new PostgresArchiveStore({
      connectionString: location,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.ttlDays ? { ttlDays: options.ttlDays } : {}),
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    throw new ArchiveError('INVALID_ARGUMENT', `unsupported store URL ${location.split(':')[0]}://; use a folder or a postgres:// URL`);
  return new ConversationArchive({ dir: location, ...(options.ttlDays ? { ttlDays: options.ttlDays } : {}) });
}
