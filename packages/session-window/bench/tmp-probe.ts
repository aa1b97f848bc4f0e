import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { startRedisServer } from '@lix/test-utils';
import { encodeRecord, sessionKeys, decodeRecord } from '../src/index.js';
import { readScript } from '../src/scripts.js';
const server = await startRedisServer();
async function ops(count: number, c: number, op: (i: number, w: number) => Promise<unknown>) {
  let next = 0; const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: c }, async (_, w) => { while (next < count) await op(next++, w); }));
  return Math.round(count / (Number(process.hrtime.bigint() - t) / 1e9));
}
const content = 'x'.repeat(400);
const recs = Array.from({length: 20}, (_, i) => encodeRecord({ seq: i + 1, role: 'user', content, timestamp: 1.5, metadata: {} }));
for (const create of [createIoredisDriver, createNodeRedisDriver]) {
const driver = create({ host: server.host, port: server.port });
await driver.connect();
const keys = Array.from({length: 50}, (_, w) => sessionKeys('p', 's' + w));
for (const k of keys) { await driver.del([k.hot]); await driver.rpush(k.hot, recs); }
for (let r = 0; r < 3; r++) {
  const row: Record<string, number> = {};
  row.script = await ops(10000, 50, (i, w) => driver.eval(readScript, [keys[w]!.hot, keys[w]!.activity], [86400000, Date.now()]));
  row.batch = await ops(10000, 50, async (i, w) => { const b = driver.batch(); const l = b.lrange(keys[w]!.hot, 0, -1); void b.pexpire(keys[w]!.hot, 86400000); void b.set(keys[w]!.activity, new TextEncoder().encode(String(Date.now())), { ttlMs: 86400000 }); await b.exec(); return l; });
  row.lrange = await ops(10000, 50, (i, w) => driver.lrange(keys[w]!.hot, 0, -1));
  row.lrangeDecode = await ops(10000, 50, async (i, w) => (await driver.lrange(keys[w]!.hot, 0, -1)).map(decodeRecord));
  console.log(create.name, JSON.stringify(row));
}
await driver.close();
}
await server.stop();
