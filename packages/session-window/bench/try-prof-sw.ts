import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConversationArchive } from '@lix/archive';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { loadCorpus, startRedisServer } from '@lix/test-utils';
import { HybridConversationCache } from '../src/index.js';
const turns = loadCorpus().flatMap((c) => c.turns);
const server = await startRedisServer();
const driver = createIoredisDriver({ host: server.host, port: server.port });
await driver.connect();
const dir = mkdtempSync(join(tmpdir(), 'sw-prof-'));
const archive = new ConversationArchive({ dir });
const mode = process.argv[2] ?? 'c1';
for (let run = 0; run < 4; run++) {
  const sessions = mode === 'c1' ? 1 : 50;
  const caches = Array.from({ length: sessions }, (_, s) => new HybridConversationCache({ sessionId: `p${run}:s${s}`, driver, archive, keyPrefix: 'bench' }));
  const count = mode === 'c1' ? 1000 : 2000;
  let next = 0; const t = performance.now();
  let archiveMs = 0;
  await Promise.all(Array.from({ length: sessions }, async (_, w) => { for (;;) { const i = next++; if (i >= count) return; const tt = performance.now(); await caches[w]!.addMessage(turns[i % turns.length]!.role as never, turns[i % turns.length]!.content); } }));
  console.log(mode, 'ops/s', (count / ((performance.now() - t) / 1000)).toFixed(0));
}
await archive.close(); await driver.close(); await server.stop?.();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
