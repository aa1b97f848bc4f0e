/**
 * Session-window benchmark, per driver (ioredis, node-redis) against a throwaway
 * redis-server and an archive in a temporary directory:
 * - addMessage ops/s at concurrency 1 and 50, next to a raw RPUSH of the same record
 *   bytes through the same driver connection;
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

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 2000);
const WINDOW = 20;

const turns = loadCorpus().flatMap((conversation) => conversation.turns);
const turnAt = (index: number) => turns[index % turns.length]!;

async function opsPerSecond(count: number, concurrency: number, operation: (index: number, worker: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) await operation(next++, worker);
    }),
  );
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Row {
  figure: string;
  ours: number;
  reference: number;
  unit: string;
}

async function benchDriver(name: string, driver: KVDriver): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lix-sw-bench-'));
  const archive = new ConversationArchive({ dir });
  const rows: Row[] = [];
  try {
    let runId = 0;
    for (const concurrency of [1, 50]) {
      const ours: number[] = [];
      const reference: number[] = [];
      const count = concurrency === 1 ? Math.ceil(OPS / 2) : OPS;
      // Run 0 warms the JIT, the script cache and the connection, and is not counted.
      for (let run = 0; run <= RUNS; run++) {
        const prefix = `bench:${name}:${runId++}`;
        // One session per concurrent writer: writers of one session serialize on the archive lock.
        const caches = Array.from({ length: concurrency }, (_, worker) => new HybridConversationCache({ sessionId: `${prefix}:s${worker}`, driver, archive, keyPrefix: 'bench' }));
        const oursRun = await opsPerSecond(count, concurrency, (index, worker) => {
            const turn = turnAt(index);
            return caches[worker]!.addMessage(turn.role, turn.content);
          });
        const records = Array.from({ length: count }, (_, index) => {
          const turn = turnAt(index);
          return encodeRecord({ seq: index + 1, role: turn.role, content: turn.content, timestamp: 1_700_000_000.123, metadata: {} });
        });
        const referenceRun = await opsPerSecond(count, concurrency, (index, worker) => driver.rpush(`${prefix}:raw${worker}`, [records[index]!]));
        if (run > 0) {
          ours.push(oursRun);
          reference.push(referenceRun);
        }
      }
      rows.push({ figure: `${name} addMessage, concurrency ${concurrency} (vs RPUSH)`, ours: median(ours), reference: median(reference), unit: 'ops/s' });
    }

    // getContext on sessions holding a full 20-message window.
    const sessions = Array.from({ length: 50 }, (_, index) => new HybridConversationCache({ sessionId: `bench:${name}:read${index}`, driver, archive, keyPrefix: 'bench' }));
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
    for (const concurrency of [1, 50]) {
      const ours: number[] = [];
      const reference: number[] = [];
      for (let run = 0; run <= RUNS; run++) {
        const oursRun = await opsPerSecond(OPS, concurrency, (index, worker) => sessions[worker]!.getContext());
        const referenceRun = await opsPerSecond(OPS, concurrency, (index, worker) => driver.lrange(rawKeys[worker]!, 0, -1));
        if (run > 0) {
          ours.push(oursRun);
          reference.push(referenceRun);
        }
      }
      rows.push({ figure: `${name} getContext(20), concurrency ${concurrency} (vs LRANGE)`, ours: median(ours), reference: median(reference), unit: 'ops/s' });
    }

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
    rows.push({ figure: `${name} Redis bytes per hot message, list + meta (vs record size)`, ours: redisBytes / messages, reference: recordBytes / messages, unit: 'B' });
    rows.push({ figure: `${name} Redis bytes per hot message, list only (vs record size)`, ours: listBytes / messages, reference: recordBytes / messages, unit: 'B' });
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
console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`medians of ${RUNS} runs after one warm-up run; ${OPS} operations per run (addMessage at concurrency 1: ${Math.ceil(OPS / 2)}); archive: @lix/archive defaults in a temp dir\n`);
console.log('| figure | ours | reference | ratio |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  const format = (value: number) => (row.unit === 'B' ? `${value.toFixed(1)} B` : `${Math.round(value).toLocaleString('en-US')} ops/s`);
  console.log(`| ${row.figure} | ${format(row.ours)} | ${format(row.reference)} | ${(row.ours / row.reference).toFixed(2)}× |`);
}
