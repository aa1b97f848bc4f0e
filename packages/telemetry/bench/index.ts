/**
 * `pnpm --filter @lix/telemetry bench`: what instrumentation costs when no OpenTelemetry
 * SDK is registered (the API is installed, so its no-op meter and tracer run), on the hot
 * paths: a Redis GET and EVALSHA through `instrumentDriver` (ioredis, a redis-server the
 * bench starts), and an archive `appendTurn` and `loadRecent` through
 * `instrumentArchiveStore`, each next to the same call on the bare object in the same run.
 *
 * Reports the median of RUNS runs of OPS sequential calls (wall time), the mean and p99 of
 * every call, and the client CPU time per call (process.cpuUsage), which the load of other
 * processes on a shared machine disturbs far less than wall time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import { defineScript } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { startRedisServer } from '@lix/test-utils';
import { instrumentArchiveStore, instrumentDriver, resolveTelemetry } from '../src/index.js';
import { instrumentMethods, loadOtelApi } from '../src/internal.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const OPS = Number(process.env.BENCH_OPS ?? 500);

interface Measured {
  median: number;
  mean: number;
  p99: number;
  cpu: number;
}

async function measure(op: () => Promise<unknown>, into: { runs: number[]; calls: number[]; cpu: number[] }): Promise<void> {
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) {
    const callStart = process.hrtime.bigint();
    await op();
    into.calls.push(Number(process.hrtime.bigint() - callStart) / 1000);
  }
  into.runs.push(Number(process.hrtime.bigint() - start) / 1000 / OPS);
  const cpu = process.cpuUsage(cpuStart);
  into.cpu.push((cpu.user + cpu.system) / OPS);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function summarize(samples: { runs: number[]; calls: number[]; cpu: number[] }): Measured {
  const sorted = [...samples.calls].sort((a, b) => a - b);
  return {
    median: median(samples.calls),
    mean: samples.calls.reduce((sum, v) => sum + v, 0) / samples.calls.length,
    p99: sorted[Math.floor(sorted.length * 0.99)]!,
    cpu: median(samples.cpu),
  };
}

/**
 * Ours and the reference alternate call by call (which goes first alternating too), so a
 * load spike or a compaction falls on both alike and the medians are of single calls;
 * client CPU is taken from blocks of calls, alternating run by run.
 */
async function compare(ours: () => Promise<unknown>, reference: () => Promise<unknown>): Promise<{ ours: Measured; reference: Measured }> {
  for (let i = 0; i < 100; i++) {
    await ours();
    await reference();
  }
  const a = { runs: [] as number[], calls: [] as number[], cpu: [] as number[] };
  const b = { runs: [] as number[], calls: [] as number[], cpu: [] as number[] };
  const timed = async (op: () => Promise<unknown>, into: number[]) => {
    const start = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - start) / 1000);
  };
  for (let i = 0; i < RUNS * OPS; i++) {
    if (i % 2 === 0) {
      await timed(ours, a.calls);
      await timed(reference, b.calls);
    } else {
      await timed(reference, b.calls);
      await timed(ours, a.calls);
    }
  }
  const blockCalls = { runs: [] as number[], calls: [] as number[], cpu: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    if (run % 2 === 0) {
      await measure(ours, { ...blockCalls, cpu: a.cpu });
      await measure(reference, { ...blockCalls, cpu: b.cpu });
    } else {
      await measure(reference, { ...blockCalls, cpu: b.cpu });
      await measure(ours, { ...blockCalls, cpu: a.cpu });
    }
  }
  return { ours: summarize(a), reference: summarize(b) };
}

const rows: string[] = [];
const us = (value: number) => `${value.toFixed(1)} µs`;
function row(figure: string, result: { ours: Measured; reference: Measured }): void {
  const { ours, reference } = result;
  rows.push(
    `| ${figure} | ${us(ours.median)} | ${us(reference.median)} | ${(ours.median / reference.median).toFixed(3)}× | ${(ours.mean / reference.mean).toFixed(3)}× / ${(ours.p99 / reference.p99).toFixed(3)}× | ${us(ours.cpu)} vs ${us(reference.cpu)} = ${(ours.cpu / reference.cpu).toFixed(3)}× | ≤ 1.05× |`,
  );
}

const cpu = cpus();
console.log(
  `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
console.log(
  `@opentelemetry/api installed: ${loadOtelApi() !== null}, SDK registered: no; ${RUNS * OPS} sequential calls of each, alternating call by call (medians, means and p99 of single calls); client CPU from ${RUNS} blocks of ${OPS} calls each`,
);

/**
 * The wrapper's own cost per call, measured on a method that does nothing (so the
 * machine's load barely matters): median over runs of 50 000 calls, wrapped minus bare.
 */
async function fixedOverheadNs(): Promise<number> {
  const target = {
    async op(): Promise<number> {
      return 1;
    },
  };
  const telemetry = resolveTelemetry(undefined, 'bench');
  const wrapped = instrumentMethods(target, telemetry, {
    op: { span: 'op', duration: telemetry.histogram('bench.duration'), attributes: { 'lix.operation': 'op' } },
  });
  const time = async (fn: () => Promise<unknown>) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 50_000; i++) await fn();
    return Number(process.hrtime.bigint() - start) / 50_000;
  };
  const differences: number[] = [];
  for (let run = 0; run < RUNS; run++) differences.push((await time(() => wrapped.op())) - (await time(() => target.op())));
  return median(differences);
}

const overhead = await fixedOverheadNs();
const projected: string[] = [];
const server = await startRedisServer();
const dir = await mkdtemp(join(tmpdir(), 'lix-telemetry-bench-'));
try {
  const driver = createIoredisDriver({ url: server.url });
  await driver.connect();
  const instrumented = instrumentDriver(driver);
  if (instrumented === driver) throw new Error('bench: instrumentDriver returned the bare driver; is @opentelemetry/api installed?');
  const value = new Uint8Array(1024).fill(7);
  await driver.set('bench:k', value);
  const get = await compare(
    () => instrumented.get('bench:k'),
    () => driver.get('bench:k'),
  );
  row('ioredis GET 1 KiB, instrumented vs bare', get);
  projected.push(
    `| wrapper cost per call (no-op method, wrapped − bare) | ${(overhead / 1000).toFixed(2)} µs | bare GET ${us(get.reference.median)} | ${((get.reference.median + overhead / 1000) / get.reference.median).toFixed(4)}× | ≤ 1.05× |`,
  );
  const script = defineScript({
    name: 'bench:touch',
    lua: "return redis.call('PEXPIRE', KEYS[1], 60000)",
    memory: (store, keys) => (store.pexpire(keys[0]!, 60_000) ? 1 : 0),
  });
  row(
    'ioredis EVALSHA, instrumented vs bare',
    await compare(
      () => instrumented.eval(script, ['bench:k'], []),
      () => driver.eval(script, ['bench:k'], []),
    ),
  );
  await driver.close();

  const archive = new ConversationArchive({ dir });
  const observed = instrumentArchiveStore(archive);
  let turn = 0;
  row(
    'archive appendTurn, instrumented vs bare',
    await compare(
      () => observed.appendTurn('bench-a', { role: 'user', content: `message ${turn++}`, timestamp: 1 }),
      () => archive.appendTurn('bench-b', { role: 'user', content: `message ${turn++}`, timestamp: 1 }),
    ),
  );
  row(
    'archive loadRecent(10), instrumented vs bare',
    await compare(
      () => observed.loadRecent('bench-a', 10),
      () => archive.loadRecent('bench-a', 10),
    ),
  );
  await archive.close();
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
console.log('\n| figure | instrumented | bare | ratio (median) | mean / p99 | client CPU per call | target |');
console.log('|---|---|---|---|---|---|---|');
for (const line of rows) console.log(line);
console.log('\n| figure | added per call | against | projected ratio | target |');
console.log('|---|---|---|---|---|');
for (const line of projected) console.log(line);
