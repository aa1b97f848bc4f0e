/**
 * Session-window benchmark, per driver (ioredis, node-redis) against a throwaway
 * redis-server and an archive in a temporary directory:
 * - addMessage ops/s at concurrency 1 and 50, next to a raw RPUSH of the same record
 *   bytes through the same driver connection, with the file store and with an
 *   in-process ArchiveStore (the window's own cost, without the store's);
 * - getContext (20-message window) ops/s, next to a raw LRANGE of the same 20 records;
 * - Redis memory per hot message (MEMORY USAGE of the session's keys / messages) next
 *   to the record's serialized size.
 * Medians over BENCH_RUNS runs; ours and the reference alternate within each run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import type { KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { HybridConversationCache, encodeRecord, sessionKeys } from '../src/index.js';
// The in-process ArchiveStore of the tests (the archive's seq rules, no I/O): rows with it
// isolate what the window itself costs on top of an RPUSH, whatever the store.
import { MemoryArchive } from '../test/doubles.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 2000);
const WINDOW = 20;
const notes: string[] = [];
const REHYDRATIONS = Number(process.env.BENCH_REHYDRATIONS ?? 600);

const turns = loadCorpus().flatMap((conversation) => conversation.turns);
const turnAt = (index: number) => turns[index % turns.length]!;

interface Run {
  opsPerSecond: number;
  latenciesMs: number[];
}

async function measure(count: number, concurrency: number, operation: (index: number, worker: number) => Promise<unknown>): Promise<Run> {
  let next = 0;
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const index = next++;
        const began = process.hrtime.bigint();
        await operation(index, worker);
        latenciesMs.push(Number(process.hrtime.bigint() - began) / 1e6);
      }
    }),
  );
  return { opsPerSecond: count / (Number(process.hrtime.bigint() - start) / 1e9), latenciesMs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

interface Row {
  figure: string;
  ours: number;
  reference: number;
  unit: 'ops/s' | 'B' | 'ms';
  /** p99 latency of ours and of the reference, ms (all operations of the counted runs). */
  p99?: [number, number];
  /** Higher is better for ops/s; for ms the ratio is ours / reference and lower is better. */
}

/** Runs ours and the reference alternately RUNS times (after a warm-up) and keeps medians and p99. */
async function compare(figure: string, runs: number, ours: (run: number) => Promise<Run>, reference: (run: number) => Promise<Run>): Promise<Row> {
  const o: number[] = [];
  const r: number[] = [];
  const oLat: number[] = [];
  const rLat: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const a = await ours(run);
    const b = await reference(run);
    if (run === 0) continue;
    o.push(a.opsPerSecond);
    r.push(b.opsPerSecond);
    oLat.push(...a.latenciesMs);
    rLat.push(...b.latenciesMs);
  }
  return { figure, ours: median(o), reference: median(r), unit: 'ops/s', p99: [percentile(oLat, 99), percentile(rLat, 99)] };
}

async function benchDriver(name: string, driver: KVDriver): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lix-sw-bench-'));
  const archive = new ConversationArchive({ dir });
  const rows: Row[] = [];
  try {
    let runId = 0;
    const record = (index: number) => {
      const turn = turnAt(index);
      return encodeRecord({ seq: index + 1, role: turn.role, content: turn.content, timestamp: 1_700_000_000.123, metadata: {} });
    };
    for (const [store, concurrency, sessionCount, label] of [
      ['file', 1, 1, 'concurrency 1'],
      ['file', 50, 50, 'concurrency 50 over 50 sessions'],
      ['file', 50, 1, 'concurrency 50 on one session'],
      ['memory', 1, 1, 'concurrency 1'],
      ['memory', 50, 50, 'concurrency 50 over 50 sessions'],
      ['memory', 50, 1, 'concurrency 50 on one session'],
    ] as const) {
      const count = concurrency === 1 ? Math.ceil(OPS / 2) : OPS;
      const records = Array.from({ length: count }, (_, index) => record(index));
      rows.push(
        await compare(
          `${name} addMessage, ${store === 'file' ? 'file store' : 'in-memory store'}, ${label} (vs RPUSH)`,
          RUNS,
          async () => {
            const prefix = `bench:${name}:${runId++}`;
            const target = store === 'file' ? archive : new MemoryArchive();
            const caches = Array.from(
              { length: sessionCount },
              (_, s) => new HybridConversationCache({ sessionId: `${prefix}:s${s}`, driver, archive: target, keyPrefix: 'bench' }),
            );
            return measure(count, concurrency, (index, worker) => {
              const turn = turnAt(index);
              return caches[worker % sessionCount]!.addMessage(turn.role, turn.content);
            });
          },
          async () => {
            const prefix = `bench:${name}:${runId++}`;
            return measure(count, concurrency, (index, worker) => driver.rpush(`${prefix}:raw${worker % sessionCount}`, [records[index]!]));
          },
        ),
      );
    }

    // getContext on 50 sessions holding a full 20-message window, against LRANGE of the same bytes.
    const sessions = Array.from(
      { length: 50 },
      (_, index) => new HybridConversationCache({ sessionId: `bench:${name}:read${index}`, driver, archive, keyPrefix: 'bench' }),
    );
    for (const [index, cache] of sessions.entries()) {
      for (let i = 0; i < WINDOW + 5; i++) {
        const turn = turnAt(index * 31 + i);
        await cache.addMessage(turn.role, turn.content);
      }
    }
    const rawKeys = sessions.map((_, index) => `bench:${name}:rawread${index}`);
    for (const [index, cache] of sessions.entries()) {
      const records = await driver.lrange(sessionKeys('bench', cache.sessionId).hot, 0, -1);
      await driver.rpush(rawKeys[index]!, records);
    }
    const checksBefore = (await Promise.all(sessions.map((cache) => cache.getStats()))).reduce((sum, stats) => sum + stats.archiveChecks, 0);
    for (const concurrency of [1, 50]) {
      rows.push(
        await compare(
          `${name} getContext(20), concurrency ${concurrency}${concurrency === 50 ? ' over 50 sessions' : ''} (vs LRANGE)`,
          RUNS,
          () => measure(OPS, concurrency, (index, worker) => sessions[concurrency === 1 ? index % 50 : worker]!.getContext()),
          () => measure(OPS, concurrency, (index, worker) => driver.lrange(rawKeys[concurrency === 1 ? index % 50 : worker]!, 0, -1)),
        ),
      );
    }
    const checksAfter = (await Promise.all(sessions.map((cache) => cache.getStats()))).reduce((sum, stats) => sum + stats.archiveChecks, 0);
    notes.push(`${name}: ${checksAfter - checksBefore} archive checks in ${2 * (RUNS + 1) * OPS} getContext calls (verifyIntervalMs 1000)`);

    // Memory: Redis bytes per hot message against the record's own size.
    let redisBytes = 0;
    let listBytes = 0;
    let recordBytes = 0;
    let messages = 0;
    for (const cache of sessions) {
      const keys = sessionKeys('bench', cache.sessionId);
      const records = await driver.lrange(keys.hot, 0, -1);
      const hot = (await driver.memoryUsage(keys.hot)) ?? 0;
      redisBytes += hot + ((await driver.memoryUsage(keys.activity)) ?? 0);
      listBytes += hot;
      recordBytes += records.reduce((sum, record) => sum + record.length, 0);
      messages += records.length;
    }
    rows.push({
      figure: `${name} Redis bytes per hot message, list + meta (vs record size)`,
      ours: redisBytes / messages,
      reference: recordBytes / messages,
      unit: 'B',
    });
    rows.push({
      figure: `${name} Redis bytes per hot message, list only (vs record size)`,
      ours: listBytes / messages,
      reference: recordBytes / messages,
      unit: 'B',
    });

    // Re-hydration: the window of an evicted session, 4,000 messages of history against 40.
    // The two cases alternate sample by sample (their order too), so load from other work
    // on the machine falls on both alike; medians of many samples.
    const coldSession = async (historyLength: number) => {
      const sessionId = `bench:${name}:cold${historyLength}`;
      const cache = new HybridConversationCache({ sessionId, driver, archive, keyPrefix: 'bench' });
      for (let start = 0; start < historyLength; start += 200) {
        await archive.appendTurns(
          sessionId,
          Array.from({ length: Math.min(200, historyLength - start) }, (_, i) => {
            const turn = turnAt(start + i);
            return { role: turn.role, content: turn.content };
          }),
        );
      }
      const keys = sessionKeys('bench', sessionId);
      return async (): Promise<number> => {
        await driver.del([keys.hot, keys.activity]);
        const began = process.hrtime.bigint();
        const window = await cache.getContext();
        const ms = Number(process.hrtime.bigint() - began) / 1e6;
        if (window.length !== WINDOW) throw new Error(`re-hydrated ${window.length} messages, expected ${WINDOW}`);
        return ms;
      };
    };
    const longCold = await coldSession(4000);
    const shortCold = await coldSession(40);
    const long: number[] = [];
    const short: number[] = [];
    const warmUp = Math.ceil(REHYDRATIONS / 10);
    for (let i = 0; i < REHYDRATIONS + warmUp; i++) {
      let longMs: number;
      let shortMs: number;
      if (i % 2 === 0) {
        longMs = await longCold();
        shortMs = await shortCold();
      } else {
        shortMs = await shortCold();
        longMs = await longCold();
      }
      if (i < warmUp) continue;
      long.push(longMs);
      short.push(shortMs);
    }
    rows.push({
      figure: `${name} re-hydrate 20 of 4,000 messages (vs 20 of 40), median`,
      ours: median(long),
      reference: median(short),
      unit: 'ms',
      p99: [percentile(long, 99), percentile(short, 99)],
    });
  } finally {
    await archive.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const server = await startRedisServer();
const rows: Row[] = [];
try {
  for (const [name, create] of [
    ['ioredis', createIoredisDriver],
    ['node-redis', createNodeRedisDriver],
  ] as const) {
    const driver = create({ host: server.host, port: server.port });
    await driver.connect();
    try {
      rows.push(...(await benchDriver(name, driver)));
    } finally {
      await driver.close();
    }
  }
} finally {
  await server.stop();
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `medians of ${RUNS} runs after one warm-up run, ours and the reference alternating; ${OPS} operations per run (addMessage at concurrency 1: ${Math.ceil(OPS / 2)}); p99 over every operation of the counted runs; re-hydration: ${REHYDRATIONS} cold reads of each session after ${Math.ceil(REHYDRATIONS / 10)} warm-up pairs, the two alternating; archive: @lix/archive defaults in a temp dir\n`,
);
console.log('| figure | ours | reference | ratio | p99 ours / reference |');
console.log('|---|---:|---:|---:|---:|');
for (const row of rows) {
  const format = (value: number) =>
    row.unit === 'B' ? `${value.toFixed(1)} B` : row.unit === 'ms' ? `${value.toFixed(3)} ms` : `${Math.round(value).toLocaleString('en-US')} ops/s`;
  const p99 = row.p99 === undefined ? '' : `${row.p99[0].toFixed(3)} / ${row.p99[1].toFixed(3)} ms`;
  console.log(`| ${row.figure} | ${format(row.ours)} | ${format(row.reference)} | ${(row.ours / row.reference).toFixed(2)}× | ${p99} |`);
}
for (const note of notes) console.log(`\n${note}`);
