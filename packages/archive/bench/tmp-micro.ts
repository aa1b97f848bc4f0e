import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadCorpus, startPostgresServer } from '@lix/test-utils';
import { encodeTurns } from '../src/turn-records.js';
import { PostgresArchiveStore } from '../src/postgres/index.js';
const turns = loadCorpus().flatMap((c) => c.turns);
const server = await startPostgresServer();
const pool = new pg.Pool({ connectionString: server.url, max: 4 });
await pool.query('CREATE TABLE raw (session text, seq bigint, data bytea, PRIMARY KEY (session, seq))');
for (const [label, opts] of [['brotli', {}], ['none', { codec: 'none' as const }], ['brotli c32', { compactAfterTurns: 32, compactAfterBytes: 32768 }]] as const) {
  const store = new PostgresArchiveStore({ connectionString: server.url, schema: `s${label.replace(/\W/g, '')}`, ...opts });
  await store.migrate();
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    for (let i = 0; i < 400; i++) await store.appendTurn(`x${round}`, turns[i]!);
    const ours = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 400; i++) await pool.query('INSERT INTO raw VALUES ($1,$2,$3)', [`${label}${round}`, i, encodeTurns([{ ...turns[i]!, seq: 0 }])]);
    const ref = performance.now() - t;
    console.log(label, round, (ours / 400).toFixed(3), (ref / 400).toFixed(3), (ref / ours).toFixed(2));
  }
  await store.close();
}
await pool.end();
await server.stop();
