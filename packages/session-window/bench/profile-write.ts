/**
 * Profiling harness (not the benchmark; run with `node --cpu-prof --import tsx --conditions=@lix/source`):
 * addMessage over an in-process store at concurrency 50 over 50 sessions against RPUSH,
 * with client CPU per operation and the server's INFO commandstats (EVALSHA vs RPUSH).
 */
import { execFileSync } from 'node:child_process';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { encodeRecord, HybridConversationCache } from '../src/index.js';
import { MemoryArchive } from '../test/doubles.js';

const turns = loadCorpus().flatMap((c) => c.turns);
const server = await startRedisServer();
const driver = (process.env.DRIVER === 'ioredis' ? createIoredisDriver : createNodeRedisDriver)({ host: server.host, port: server.port });
await driver.connect();
const records = turns.slice(0, 200).map((t, i) => encodeRecord({ seq: i + 1, role: t.role, content: t.content, timestamp: 1.7e9, metadata: {} }));
const cpu: number[] = [];
async function run(n: number, op: (i: number, w: number) => Promise<unknown>) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 50 }, async (_, w) => {
      while (next < n) await op(next++, w);
    }),
  );
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / n);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}
const mode = process.env.MODE ?? 'both';
for (let r = 0; r < 6; r++) {
  const archive = new MemoryArchive();
  const caches = Array.from({ length: 50 }, (_, s) => new HybridConversationCache({ sessionId: `w${r}:${s}`, driver, archive, keyPrefix: 'bench' }));
  const a =
    mode !== 'raw'
      ? await run(10000, (i, w) => {
          const t = turns[i % 200]!;
          return caches[w]!.addMessage(t.role, t.content);
        })
      : 0;
  const b = mode !== 'ours' ? await run(10000, (i, w) => driver.rpush(`raw${r}:${w}`, [records[i % 200]!])) : 0;
  console.log(
    `ours ${Math.round(a)} raw ${Math.round(b)} ratio ${(a / b).toFixed(2)} cpu µs/op ${cpu
      .splice(0)
      .map((x) => x.toFixed(1))
      .join(' / ')}`,
  );
}
console.log(
  execFileSync('redis-cli', ['-p', String(server.port), 'info', 'commandstats'])
    .toString()
    .split('\n')
    .filter((l) => /evalsha|rpush|cmdstat_eval:/.test(l))
    .join('\n'),
);
await driver.close();
await server.stop();
