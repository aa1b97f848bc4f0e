// The store's append alone, against a raw write of the same bytes in the same process: one session
// appending turn after turn, and 50 sessions appending at once (one writer per session, new
// sessions every run, as the session window's benchmark does).
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConversationArchive, type ArchiveTurnInput } from '@lix/archive';

export interface AppendFigures {
  opsPerSecond: number;
  latenciesMs: number[];
}

async function run(count: number, concurrency: number, op: (index: number, worker: number) => Promise<unknown>): Promise<AppendFigures> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (;;) {
        const index = next++;
        if (index >= count) return;
        const t = performance.now();
        await op(index, worker);
        latenciesMs.push(performance.now() - t);
      }
    }),
  );
  return { opsPerSecond: count / ((performance.now() - started) / 1000), latenciesMs };
}

/**
 * `ours`: `archive.appendTurn`; `reference`: open (once per session), `write` of the turn's
 * JSON line, as a plain append-only log would do. Both are awaited one at a time per writer.
 */
export async function storeAppend(
  dir: string,
  turns: readonly ArchiveTurnInput[],
  count: number,
  sessions: number,
  runId: string,
): Promise<{ ours: AppendFigures; reference: AppendFigures }> {
  const archive = new ConversationArchive({ dir: join(dir, 'store') });
  const ours = await run(count, sessions, (index, worker) => archive.appendTurn(`${runId}-s${worker}`, turns[index % turns.length]!));
  await archive.close();
  const fds = new Map<number, number>();
  const reference = await run(count, sessions, async (index, worker) => {
    let fd = fds.get(worker);
    if (fd === undefined) {
      fd = openSync(join(dir, `${runId}-raw${worker}.jsonl`), 'a');
      fds.set(worker, fd);
    }
    writeSync(fd, `${JSON.stringify(turns[index % turns.length])}\n`);
  });
  for (const fd of fds.values()) closeSync(fd);
  return { ours, reference };
}
