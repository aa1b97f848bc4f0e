// `lix-archive migrate --from X --to Y`: the store-to-store copy behind the CLI.
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
  try {
    if (to.migrate) await to.migrate();
    const tty = !options.json && process.stderr.isTTY === true;
    const total = tty ? await countSessions(from) : undefined;
    const result = await copySessions(from, to, {
      ...(total === undefined ? {} : { total }),
      ...(tty ? { onProgress: (progress: CopyProgress) => process.stderr.write(bar(progress)) } : {}),
    });
    if (tty) process.stderr.write('\n');
    if (options.json) console.log(JSON.stringify(result));
    else console.log(`copied ${result.copied} turn(s) of ${result.sessions} session(s); ${result.skipped} were already there`);
    return 0;
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}
