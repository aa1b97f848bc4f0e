/**
 * Profiling harness (not the benchmark; run with `node --cpu-prof --import tsx --conditions=@lix/source`):
 * getContext at concurrency 50 over 50 sessions against LRANGE of the same bytes, with
 * client CPU per operation. DRIVER=ioredis|node-redis, MODE=ours|raw|both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversationArchive } from '@lix/archive';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { HybridConversationCache, sessionKeys } from '../src/index.js';

const turns = loadCorpus().flatMap((c) => c.turns);
const server = await startRedisServer();
const driver = (process.env.DRIVER === 'ioredis' ? createIoredisDriver : createNodeRedisDriver)({ host: server.host, port: server.port });
await driver.connect();
const dir = mkdtempSync(join(tmpdir(), 'lix-sw-prof-'));
const archive = new ConversationArchive({ dir });
const sessions = Array.from(
  { length: 50 },
  (_, i) => new HybridConversationCache({ sessionId: `p${i}`, driver, archive, keyPrefix: 'bench', verifyIntervalMs: Number(process.env.VERIFY_MS ?? 1000) }),
);
for (const [i, cache] of sessions.entries())
  for (let k = 0; k < 25; k++) {
    const t = turns[(i * 31 + k) % turns.length]!;
    await cache.addMessage(t.role, t.content);
  }
const raw = sessions.map((_, i) => `raw${i}`);
for (const [i, cache] of sessions.entries()) await driver.rpush(raw[i]!, await driver.lrange(sessionKeys('bench', cache.sessionId).hot, 0, -1));
async function run(n: number, op: (w: number) => Promise<unknown>) {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: 50 }, async (_, w) => {
      while (next++ < n) await op(w);
    }),
  );
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / n);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}
const cpu: number[] = [];
const mode = process.env.MODE ?? 'both';
for (let r = 0; r < 6; r++) {
  const a = mode !== 'raw' ? await run(20000, (w) => sessions[w]!.getContext()) : 0;
  const b = mode !== 'ours' ? await run(20000, (w) => driver.lrange(raw[w]!, 0, -1)) : 0;
  console.log(
    `ours ${Math.round(a)} raw ${Math.round(b)} ratio ${(a / b).toFixed(2)} cpu µs/op ${cpu
      .splice(0)
      .map((x) => x.toFixed(1))
      .join(' / ')}`,
  );
}
await driver.close();
await archive.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
