// `lix-archive migrate --from X --to Y`: the store-to-store copy behind the CLI.
import { isArchiveError } from './errors.js';
import { copySessions, openStore, type CopyProgress } from './store-copy.js';
import type { ArchiveStore } from './store.js';

const BAR_WIDTH = 30;

function bar(progress: CopyProgress): string {
  const total = progress.total ?? 0;
  const done = total > 0 ? Math.min(1, progress.sessions / total) : 0;
  const filled = Math.round(done * BAR_WIDTH);
  return `\r[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${progress.sessions}/${total} sessions, ${progress.copied} turns copied, ${progress.skipped} already there`;
}

async function countSessions(store: ArchiveStore): Promise<number> {
  let count = 0;
  for await (const _ of store.listSessions()) count++;
  return count;
}

/** Where {@link runStoreMigration} writes, and what can stop it; the CLI passes its process's. */
export interface MigrationIo {
  /** One line of the result (stdout). */
  out(line: string): void;
  /** Progress and notices (stderr). */
  err(text: string): void;
  /** Whether `err` is a terminal (a progress bar is drawn only then). */
  errIsTTY: boolean;
  /** Stops the copy after the append in flight (the CLI aborts it on the first Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Copies every session from one store to another. A progress bar goes to stderr when it
 * is a terminal; `--json` prints the totals as JSON on stdout. A PostgreSQL destination
 * is migrated first (idempotent). Stopped through `io.signal`, it reports what it copied
 * in full and resolves 130; a re-run copies the rest, nothing twice.
 */
export async function runStoreMigration(options: { from: string; to: string; schema: string | undefined; json: boolean }, io: MigrationIo): Promise<number> {
  const schemaOption = options.schema ? { schema: options.schema } : {};
  const from = await openStore(options.from, schemaOption);
  let to: Awaited<ReturnType<typeof openStore>> | undefined;
  let last: CopyProgress | undefined;
  const tty = !options.json && io.errIsTTY;
  try {
    to = await openStore(options.to, schemaOption);
    if (to.migrate) await to.migrate();
    const total = tty ? await countSessions(from) : undefined;
    const result = await copySessions(from, to, {
      ...(total === undefined ? {} : { total }),
      onProgress: (progress: CopyProgress) => {
        last = progress;
        if (tty) io.err(bar(progress));
      },
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    });
    if (tty) io.err('\n');
    if (options.json) io.out(JSON.stringify(result));
    else io.out(`copied ${result.copied} turn(s) of ${result.sessions} session(s); ${result.skipped} were already there`);
    return 0;
  } catch (error) {
    if (!io.signal?.aborted || !isArchiveError(error, 'ABORTED')) throw error;
    if (tty) io.err('\n');
    const done = { sessions: last?.sessions ?? 0, copied: last?.copied ?? 0, skipped: last?.skipped ?? 0 };
    io.err(
      `lix-archive: interrupted; ${done.sessions} session(s) copied in full (${done.copied} turn(s)); run the same command again to copy the rest, nothing is copied twice\n`,
    );
    if (options.json) io.out(JSON.stringify({ interrupted: true, ...done }));
    return 130;
  } finally {
    await Promise.all([from.close(), to?.close()]);
  }
}
