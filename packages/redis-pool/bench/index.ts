/**
 * Driver overhead benchmark: for ioredis and node-redis, ops/s of GET, SET, a pipeline
 * of 10 SETs, one EVALSHA and an MGET of 100 keys (what semantic-cache's `batchGet`
 * sends) through our driver, next to the raw client doing the same in the same run
 * against the same throwaway redis-server. Medians over several runs; ours and raw
 * alternate within each run so load drift hits both alike.
 *
 * `pnpm bench` measures the built `dist/` (what users run: `tsc` output on plain Node);
 * `pnpm bench:src` runs the TypeScript sources through tsx instead.
 */
import { cpus, loadavg } from 'node:os';
import { startRedisServer } from '@lix/test-utils';
import { Redis } from 'ioredis';
import { RESP_TYPES, createClient } from 'redis';
import { defineScript, type KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 4000);
const CONCURRENT = 50;

const script = defineScript({
  name: 'bench-incr',
  lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  memory: (store, keys, args) => store.incrBy(keys[0]!, Number(new TextDecoder().decode(args[0]))),
});
const value = new Uint8Array(64).fill(120);
const valueBuffer = Buffer.from(value);
const MGET_KEYS = 100;
// One hash tag, as a caller on a cluster would use; single node here.
const mgetKeys = Array.from({ length: MGET_KEYS }, (_, index) => `bench:{m}:${index}`);

interface Workload {
  get(): Promise<unknown>;
  set(): Promise<unknown>;
  pipeline10(): Promise<unknown>;
  evalsha(): Promise<unknown>;
  mget100(): Promise<unknown>;
}

function ours(driver: KVDriver): Workload {
  return {
    get: () => driver.get('bench:k'),
    set: () => driver.set('bench:k', value),
    pipeline10: () => {
      const batch = driver.batch();
      for (let i = 0; i < 10; i++) void batch.set(`bench:p${i}`, value);
      return batch.exec();
    },
    evalsha: () => driver.eval(script, ['bench:n'], [1]),
    mget100: () => driver.mget(mgetKeys),
  };
}

function rawIoredis(client: Redis): Workload {
  return {
    get: () => client.getBuffer('bench:k'),
    set: () => client.set('bench:k', valueBuffer),
    pipeline10: () => {
      const pipeline = client.pipeline();
      for (let i = 0; i < 10; i++) pipeline.set(`bench:p${i}`, valueBuffer);
      return pipeline.exec();
    },
    evalsha: () => client.evalsha(script.sha1, 1, 'bench:n', 1),
    mget100: () => client.mgetBuffer(mgetKeys),
  };
}

function newNodeRedisRaw(port: number) {
  // Same settings as the driver's client: RESP2, and node-redis' default per-command
  // AbortSignal timeout off (the driver replaces it with its own cheaper deadline).
  return createClient({ socket: { port }, RESP: 2, commandOptions: { timeout: 0 } });
}
function rawNodeRedis(client: ReturnType<typeof newNodeRedisRaw>): Workload {
  const buffers = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  return {
    get: () => buffers.get('bench:k'),
    set: () => client.set('bench:k', valueBuffer),
    pipeline10: () => {
      const multi = client.multi();
      for (let i = 0; i < 10; i++) multi.set(`bench:p${i}`, valueBuffer);
      return multi.execAsPipeline();
    },
    evalsha: () => client.evalSha(script.sha1, { keys: ['bench:n'], arguments: ['1'] }),
    mget100: () => buffers.mGet(mgetKeys),
  };
}

/** ops/s of `count` calls, `concurrency` in flight at a time. */
async function measure(op: () => Promise<unknown>, count: number, concurrency: number): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        await op();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

/** The ratio a figure must reach: 0.8× for the multi-key read, 0.9× for the rest. */
const target = (figure: string) => (figure.includes('MGET') ? 0.8 : 0.9);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

interface Row {
  figure: string;
  ours: number;
  raw: number;
}

async function compare(label: string, mine: Workload, theirs: Workload): Promise<Row[]> {
  const figures: [string, keyof Workload, number, number][] = [
    ['GET', 'get', OPS, 1],
    ['SET', 'set', OPS, 1],
    ['pipeline of 10 SET', 'pipeline10', OPS / 4, 1],
    ['EVALSHA', 'evalsha', OPS, 1],
    [`MGET of ${MGET_KEYS} keys`, 'mget100', OPS / 4, 1],
    [`GET ×${CONCURRENT} concurrent`, 'get', OPS * 4, CONCURRENT],
    [`SET ×${CONCURRENT} concurrent`, 'set', OPS * 4, CONCURRENT],
  ];
  const rows: Row[] = [];
  for (const [figure, op, count, concurrency] of figures) {
    // Warm-up: connections, JIT, script cache.
    await measure(mine[op], 200, concurrency);
    await measure(theirs[op], 200, concurrency);
    const oursRuns: number[] = [];
    const rawRuns: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        oursRuns.push(await measure(mine[op], count, concurrency));
        rawRuns.push(await measure(theirs[op], count, concurrency));
      } else {
        rawRuns.push(await measure(theirs[op], count, concurrency));
        oursRuns.push(await measure(mine[op], count, concurrency));
      }
    }
    rows.push({ figure: `${label} ${figure}`, ours: median(oursRuns), raw: median(rawRuns) });
  }
  return rows;
}

const server = await startRedisServer();
try {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(
        ' ',
      )}; redis-server on loopback; ${RUNS} runs, medians; driver from ${import.meta.resolve('@lix/redis-pool').includes('/src/') ? 'src/ (tsx)' : 'dist/'}`,
  );
  const rows: Row[] = [];

  const ioDriver = createIoredisDriver({ port: server.port });
  const ioRaw = new Redis({ port: server.port });
  await ioDriver.connect();
  await ioRaw.script('LOAD', script.lua);
  await ioDriver.set('bench:n', new TextEncoder().encode('0'));
  await ioDriver.mset(mgetKeys.map((key) => [key, value] as const));
  rows.push(...(await compare('ioredis', ours(ioDriver), rawIoredis(ioRaw))));
  await ioDriver.close();
  ioRaw.disconnect();

  const nrDriver = createNodeRedisDriver({ port: server.port });
  const nrRaw = newNodeRedisRaw(server.port);
  await Promise.all([nrDriver.connect(), nrRaw.connect()]);
  rows.push(...(await compare('node-redis', ours(nrDriver), rawNodeRedis(nrRaw))));
  await nrDriver.close();
  await nrRaw.close();

  const width = Math.max(...rows.map((row) => row.figure.length));
  console.log(`| ${'figure'.padEnd(width)} | ours (ops/s) | raw client (ops/s) | ratio |`);
  console.log(`| ${'-'.repeat(width)} | -----------: | -----------------: | ----: |`);
  for (const row of rows) {
    const ratio = row.ours / row.raw;
    console.log(
      `| ${row.figure.padEnd(width)} | ${Math.round(row.ours).toLocaleString('en-US').padStart(12)} | ${Math.round(row.raw)
        .toLocaleString('en-US')
        .padStart(18)} | ${ratio.toFixed(2)}×${ratio < target(row.figure) ? ` (below ${target(row.figure)}× target)` : ''} |`,
    );
  }
} finally {
  await server.stop();
}
