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

/**
 * Copies every session from one store to another. A progress bar goes to stderr when it
 * is a terminal; `--json` prints the totals as JSON on stdout. A PostgreSQL destination
 * is migrated first (idempotent).
 */
export async function runStoreMigration(options: { from: string; to: string; schema: string | undefined; json: boolean }): Promise<number> {
  const schemaOption = options.schema ? { schema: options.schema } : {};
  const from = await openStore(options.from, schemaOption);
  const to = await openStore(options.to, schemaOption);
  // The first Ctrl-C stops the copy after the append in flight (nothing is half-copied, and
  // a re-run copies the rest); a second one ends the process at once, as usual.
  const interrupt = new AbortController();
  const onInterrupt = () => {
    process.off('SIGINT', onInterrupt);
    interrupt.abort(new Error('interrupted (SIGINT)'));
  };
  process.on('SIGINT', onInterrupt);
  let last: CopyProgress | undefined;
  const tty = !options.json && process.stderr.isTTY === true;
  try {
    if (to.migrate) await to.migrate();
    const total = tty ? await countSessions(from) : undefined;
    const result = await copySessions(from, to, {
      ...(total === undefined ? {} : { total }),
      onProgress: (progress: CopyProgress) => {
        last = progress;
        if (tty) process.stderr.write(bar(progress));
      },
      signal: interrupt.signal,
    });
    if (tty) process.stderr.write('\n');
    if (options.json) console.log(JSON.stringify(result));
    else console.log(`copied ${result.copied} turn(s) of ${result.sessions} session(s); ${result.skipped} were already there`);
    return 0;
  } catch (error) {
    if (!interrupt.signal.aborted || !isArchiveError(error, 'ABORTED')) throw error;
    if (tty) process.stderr.write('\n');
    const done = { sessions: last?.sessions ?? 0, copied: last?.copied ?? 0, skipped: last?.skipped ?? 0 };
    process.stderr.write(
      `lix-archive: interrupted; ${done.sessions} session(s) copied in full (${done.copied} turn(s)); run the same command again to copy the rest, nothing is copied twice\n`,
    );
    if (options.json) console.log(JSON.stringify({ interrupted: true, ...done }));
    return 130;
  } finally {
    process.off('SIGINT', onInterrupt);
    await Promise.all([from.close(), to.close()]);
  }
}
