import type { ChildProcess } from 'node:child_process';
import type { ArchiveStore } from '../store.js';
import type { ArchivedTurn } from '../turn-records.js';
import { range, type ConformanceWriterSpec, type SuiteContext } from './context.js';

const turn = (content: string) => ({ role: 'user', content });

/** Checks the outcome every writer race must have: seqs 1..N, each acknowledged content at its seq, nothing twice. */
function expectAcked(c: SuiteContext, stored: ArchivedTurn[], acks: { seq: number; content: string }[], exactCount?: number): void {
  const { t } = c;
  const seqs = stored.map((x) => x.seq);
  t.expect(new Set(seqs).size, 'a seq is stored twice').toBe(seqs.length);
  t.expect(seqs, 'seqs are not increasing').toEqual([...seqs].sort((a, b) => a - b));
  const contents = stored.map((x) => x.content);
  t.expect(new Set(contents).size, 'a content is stored twice').toBe(contents.length);
  const bySeq = new Map(stored.map((x) => [x.seq, x.content]));
  for (const ack of acks) t.expect(bySeq.get(ack.seq), `acknowledged seq ${ack.seq} lost`).toBe(ack.content);
  if (exactCount !== undefined) t.expect(seqs).toEqual(range(1, exactCount));
}

/** Several store instances over one storage, appending to one session at once. */
export function registerConcurrency(c: SuiteContext): void {
  const { t } = c;
  c.it('3 stores × 40 concurrent single-turn appends to one session: 120 stored, seqs 1..120, no loss, no duplicate', async () => {
    const storage = await c.storage();
    const stores = [storage.store, await storage.open(), await storage.open()];
    const id = c.sessionId('race');
    const acks: { seq: number; content: string }[] = [];
    await Promise.all(
      stores.map(async (store, w) => {
        for (let i = 0; i < 40; i++) {
          const content = `w${w}-${i}`;
          const result = await store.appendTurn(id, turn(content));
          acks.push({ seq: result.seqs[0]!, content });
        }
      }),
    );
    expectAcked(c, await (await storage.open()).loadAll(id), acks, 120);
  });

  c.it('2 stores appending the same explicit seqs at once store each seq exactly once', async () => {
    const storage = await c.storage();
    const stores = [storage.store, await storage.open()];
    const id = c.sessionId('dup');
    const results = await Promise.all(
      stores.map(async (store, w) => {
        let appended = 0;
        for (let seq = 1; seq <= 30; seq++) appended += (await store.appendTurn(id, { role: 'user', content: `w${w}-${seq}`, seq })).appended;
        return appended;
      }),
    );
    t.expect(results[0]! + results[1]!).toBe(30);
    t.expect((await storage.store.loadAll(id)).map((x) => x.seq)).toEqual(range(1, 30));
  });

  c.it('concurrent batches from 3 stores stay whole: each batch is stored contiguously, in order', async () => {
    const storage = await c.storage();
    const stores = [storage.store, await storage.open(), await storage.open()];
    const id = c.sessionId('batch');
    await Promise.all(
      stores.map(async (store, w) => {
        for (let b = 0; b < 10; b++)
          await store.appendTurns(
            id,
            range(0, 3).map((i) => turn(`w${w}-b${b}-${i}`)),
          );
      }),
    );
    const stored = await storage.store.loadAll(id);
    t.expect(stored.map((x) => x.seq)).toEqual(range(1, 120));
    for (let start = 0; start < stored.length; start += 4) {
      const prefix = stored[start]!.content.slice(0, -2);
      t.expect(stored.slice(start, start + 4).map((x) => x.content)).toEqual(range(0, 3).map((i) => `${prefix}-${i}`));
    }
  });

  c.it('one store appending to 40 sessions concurrently keeps each session separate', async () => {
    const { store } = await c.storage();
    const ids = range(1, 40).map((i) => c.sessionId(`many${i}`));
    await Promise.all(
      ids.map(async (id) => {
        for (let i = 0; i < 3; i++) await store.appendTurn(id, turn(`${id}:${i}`));
      }),
    );
    for (const id of ids) t.expect((await store.loadAll(id)).map((x) => x.content)).toEqual([0, 1, 2].map((i) => `${id}:${i}`));
  });
}

interface Writer {
  proc: ChildProcess;
  acks: { seq: number; content: string }[];
  done: boolean;
  exited: Promise<void>;
}

function startWriter(spawnWriter: (spec: ConformanceWriterSpec) => ChildProcess, spec: ConformanceWriterSpec, onAck?: (count: number) => void): Writer {
  const proc = spawnWriter(spec);
  const writer: Writer = { proc, acks: [], done: false, exited: Promise.resolve() };
  let buffered = '';
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  proc.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const match = /^ack (\d+) (.+)$/.exec(line);
      if (match) {
        writer.acks.push({ seq: Number(match[1]), content: match[2]! });
        onAck?.(writer.acks.length);
      } else if (line === 'done') writer.done = true;
    }
  });
  writer.exited = new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code, signal) => {
      if (code === 0 || signal === 'SIGKILL') resolve();
      else reject(new Error(`writer ${spec.label} exited with ${code ?? signal}: ${stderr}`));
    });
  });
  return writer;
}

/** Real child processes writing concurrently, some killed with SIGKILL mid-append. */
export function registerCrash(c: SuiteContext, spawnWriter: (spec: ConformanceWriterSpec) => ChildProcess): void {
  const { t } = c;
  c.it(
    '3 writer processes × 60 turns to one session: 180 stored, seqs 1..180, each ack at its seq',
    async () => {
      const storage = await c.storage();
      const id = c.sessionId('procs');
      const writers = ['a', 'b', 'c'].map((label) => startWriter(spawnWriter, { storageKey: storage.context.storageKey, sessionId: id, label, count: 60 }));
      await Promise.all(writers.map((w) => w.exited));
      for (const w of writers) t.expect(w.done).toBe(true);
      expectAcked(
        c,
        await storage.store.loadAll(id),
        writers.flatMap((w) => w.acks),
        180,
      );
    },
    4,
  );

  c.it(
    'writers SIGKILLed mid-append lose no acknowledged turn, duplicate none, and leave the session writable',
    async () => {
      const storage = await c.storage();
      const id = c.sessionId('killed');
      let seed = 20261201;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
      const acks: { seq: number; content: string }[] = [];
      for (let trial = 0; trial < 6; trial++) {
        const survivor = startWriter(spawnWriter, { storageKey: storage.context.storageKey, sessionId: id, label: `keep${trial}`, count: 15 });
        const killAfter = 1 + Math.floor(random() * 12);
        const victim = startWriter(spawnWriter, { storageKey: storage.context.storageKey, sessionId: id, label: `kill${trial}`, count: 100_000 }, (count) => {
          if (count === killAfter) setTimeout(() => victim.proc.kill('SIGKILL'), Math.floor(random() * 3));
        });
        await Promise.all([survivor.exited, victim.exited]);
        t.expect(survivor.done).toBe(true);
        t.expect(victim.done).toBe(false);
        acks.push(...survivor.acks, ...victim.acks);
      }
      const after = await storage.store.appendTurn(id, turn('after the kills'));
      const stored = await storage.store.loadAll(id);
      expectAcked(c, stored, [...acks, { seq: after.seqs[0]!, content: 'after the kills' }]);
      t.expect(stored.length).toBeGreaterThanOrEqual(acks.length + 1);
      t.expect((await storage.store.getMetadata(id))?.lastSeq).toBe(after.lastSeq);
    },
    4,
  );
}

/**
 * The body of a writer child process for the crash group: appends `spec.count` turns one at
 * a time and prints `ack <seq> <content>` on stdout after each append resolved, then `done`.
 * Closes the store at the end.
 *
 * @example
 * ```ts
 * // writer.ts, started by your spawnWriter
 * const spec = JSON.parse(process.argv[2]);
 * await runConformanceWriter(await openMyStore(spec.storageKey), spec);
 * ```
 */
export async function runConformanceWriter(store: ArchiveStore, spec: ConformanceWriterSpec): Promise<void> {
  for (let i = 0; i < spec.count; i++) {
    const content = `${spec.label}-${i}`;
    const result = await store.appendTurn(spec.sessionId, turn(content));
    await new Promise<void>((resolve, reject) => process.stdout.write(`ack ${result.seqs[0]} ${content}\n`, (error) => (error ? reject(error) : resolve())));
  }
  process.stdout.write('done\n');
  await store.close();
}
