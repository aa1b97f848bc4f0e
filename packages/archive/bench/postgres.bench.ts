/**
 * PostgreSQL store benchmark, against a throwaway PostgreSQL cluster and redis-server
 * (loopback; started here, never the machine's own servers):
 * - addMessage through the session window (HybridConversationCache on ioredis) with the
 *   PostgreSQL store, next to what a hand-written app would do for the same message: a raw
 *   `INSERT` of the same bytes through pg plus a raw RPUSH of the window record, in the same
 *   run, alternating. Concurrency 1 and 16 (one session per writer). Median of the runs'
 *   ops/s, plus per-op mean and p99 with compactions included.
 * - Bytes in PostgreSQL (`pg_total_relation_size` of the store's tables, indexes and TOAST
 *   included) for the corpus appended turn by turn, against the corpus's raw JSON: with
 *   autovacuum (naptime 1 s) and with autovacuum off for the store's tables.
 * Run: pnpm --filter @lix/archive bench:postgres
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { corpusPath, loadCorpus, startPostgresServer, startRedisServer } from '@lix/test-utils';
import { encodeTurns } from '../src/turn-records.js';
import { PostgresArchiveStore } from '../src/postgres/index.js';
// Relative source imports: @lix/session-window depends on @lix/archive, so a workspace
// devDependency back would make a package cycle.
import { HybridConversationCache, encodeRecord } from '../../session-window/src/index.js';
import { createIoredisDriver } from '../../redis-pool/src/ioredis.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const OPS = Number(process.env.BENCH_OPS ?? 1000);

const corpus = loadCorpus();
const turns = corpus.flatMap((conversation) => conversation.turns);
const turnAt = (index: number) => turns[index % turns.length]!;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.99)]!;

async function timed(
  count: number,
  concurrency: number,
  operation: (index: number, worker: number) => Promise<unknown>,
): Promise<{ opsPerSecond: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const index = next++;
        const began = performance.now();
        await operation(index, worker);
        latencies.push(performance.now() - began);
      }
    }),
  );
  return { opsPerSecond: count / ((performance.now() - start) / 1000), latencies };
}

async function main(): Promise<void> {
  const postgres = await startPostgresServer({ settings: { autovacuum_naptime: '1s' } });
  const redis = await startRedisServer();
  const driver = createIoredisDriver({ url: redis.url });
  const refPool = new pg.Pool({ connectionString: postgres.url, max: 16 });
  refPool.on('error', () => undefined);
  const store = new PostgresArchiveStore({ connectionString: postgres.url, schema: 'bench', maxConnections: 16 });
  const lines: string[] = [];
  try {
    await store.migrate();
    await refPool.query('CREATE TABLE bench_raw (session text NOT NULL, seq bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (session, seq))');

    lines.push(
      `PostgreSQL store bench, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} shared cores, Node ${process.versions.node}, load ${loadavg()[0]!.toFixed(1)}; PostgreSQL 15 and redis-server on loopback`,
    );
    lines.push('');
    lines.push('| figure | @lix/archive/postgres via session window | raw INSERT + raw RPUSH | ratio | target |');
    lines.push('|---|---:|---:|---:|---|');
    let runId = 0;
    for (const concurrency of [1, 16]) {
      const ours: number[] = [];
      const reference: number[] = [];
      const ourLatencies: number[] = [];
      const refLatencies: number[] = [];
      for (let run = 0; run <= RUNS; run++) {
        const prefix = `b${runId++}`;
        const caches = Array.from(
          { length: concurrency },
          (_, worker) => new HybridConversationCache({ sessionId: `${prefix}-s${worker}`, driver, archive: store, keyPrefix: 'bench' }),
        );
        const oursRun = await timed(OPS, concurrency, (index, worker) => {
          const turn = turnAt(index);
          return caches[worker]!.addMessage(turn.role, turn.content);
        });
        // The same bytes: the msgpack turn the store sends, and the window record.
        const perWorkerSeq = new Array<number>(concurrency).fill(0);
        const referenceRun = await timed(OPS, concurrency, async (index, worker) => {
          const turn = turnAt(index);
          const seq = ++perWorkerSeq[worker]!;
          const timestamp = Date.now() / 1000;
          const bytes = encodeTurns([{ seq: 0, role: turn.role, content: turn.content, timestamp, metadata: {} }]);
          await refPool.query('INSERT INTO bench_raw (session, seq, data) VALUES ($1, $2, $3)', [`${prefix}-s${worker}`, seq, bytes]);
          await driver.rpush(`bench:${prefix}:raw${worker}`, [encodeRecord({ seq, role: turn.role, content: turn.content, timestamp, metadata: {} })]);
        });
        // Run 0 warms the JIT, the prepared statements and the connections.
        if (run === 0) continue;
        ours.push(oursRun.opsPerSecond);
        reference.push(referenceRun.opsPerSecond);
        ourLatencies.push(...oursRun.latencies);
        refLatencies.push(...referenceRun.latencies);
      }
      const ratio = median(ours) / median(reference);
      lines.push(
        `| addMessage ops/s, concurrency ${concurrency} (median of ${RUNS}) | ${median(ours).toFixed(0)} | ${median(reference).toFixed(0)} | ${ratio.toFixed(2)}× | ≥ 0.7× ${ratio >= 0.7 ? 'met' : 'missed'} |`,
      );
      lines.push(
        `| addMessage ms, concurrency ${concurrency}: mean / p99 (compactions included) | ${mean(ourLatencies).toFixed(2)} / ${p99(ourLatencies).toFixed(2)} | ${mean(refLatencies).toFixed(2)} / ${p99(refLatencies).toFixed(2)} | ${(mean(refLatencies) / mean(ourLatencies)).toFixed(2)}× (mean) | |`,
      );
    }

    // getContext in the steady state: reads counted at the store, and the cost of the one
    // check the window makes per verifyIntervalMs (getMetadata) next to a bare SELECT 1.
    const calls = { getMetadata: 0, other: 0 };
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (property === 'getMetadata') calls.getMetadata++;
          else if (property !== 'appendTurns') calls.other++;
          return value.apply(target, args);
        };
      },
    });
    const reader = new HybridConversationCache({ sessionId: 'b0-s0', driver, archive: counted, keyPrefix: 'bench' });
    await reader.getContext();
    calls.getMetadata = 0;
    calls.other = 0;
    const readStart = performance.now();
    let reads = 0;
    while (performance.now() - readStart < 3000) {
      await reader.getContext();
      reads++;
    }
    const readSeconds = (performance.now() - readStart) / 1000;
    const metaTimes: number[] = [];
    const selectTimes: number[] = [];
    for (let i = 0; i < 300; i++) {
      let began = performance.now();
      await store.getMetadata('b0-s0');
      metaTimes.push(performance.now() - began);
      began = performance.now();
      await refPool.query('SELECT 1');
      selectTimes.push(performance.now() - began);
    }
    lines.push(
      `| getContext for ${readSeconds.toFixed(1)} s (${reads} calls, verifyIntervalMs 1000): archive calls | ${calls.getMetadata} getMetadata, ${calls.other} other | | | steady state: no archive read but the check per verifyIntervalMs |`,
    );
    lines.push(
      `| that check: getMetadata ms, median / p99 (vs SELECT 1 on the same server) | ${median(metaTimes).toFixed(3)} / ${p99(metaTimes).toFixed(3)} | ${median(selectTimes).toFixed(3)} / ${p99(selectTimes).toFixed(3)} | | |`,
    );
    await store.close();

    // Size: the corpus appended turn by turn (as addMessage does), conversation after
    // conversation, by one store with its default options: it vacuums the tail table after
    // its compactions deleted 200 rows; autovacuum runs too, with autovacuum_naptime = 1 s
    // (default 1 min) because this load takes seconds where a real one takes hours, and the
    // tables' thresholds of the migration. Once more with no vacuum at all (autovacuum off for
    // the store's tables, vacuumAfterRows 0): the worst case.
    const rawJson = readFileSync(corpusPath).byteLength;
    for (const [schema, autovacuum] of [
      ['sizing_novacuum', false],
      ['sizing', true],
    ] as const) {
      // Without vacuum: autovacuum off for the tables, and the store's own VACUUM off too.
      const sizing = new PostgresArchiveStore({ connectionString: postgres.url, schema, maxConnections: 4, ...(autovacuum ? {} : { vacuumAfterRows: 0 }) });
      await sizing.migrate();
      if (!autovacuum) {
        for (const table of ['turns', 'blocks', 'sessions'])
          await refPool.query(`ALTER TABLE ${schema}.lix_archive_${table} SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)`);
      }
      const began = performance.now();
      for (const conversation of corpus) {
        for (const turn of conversation.turns) await sizing.appendTurn(conversation.id, turn);
      }
      const loadSeconds = (performance.now() - began) / 1000;
      const measure = async (when: string) => {
        const sizeQuery = `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${schema}' AND c.relkind = 'r'`;
        const bytes = Number((await refPool.query(sizeQuery)).rows[0].bytes);
        const counts = await refPool.query(
          `SELECT (SELECT count(*) FROM ${schema}.lix_archive_turns)::int AS tail, (SELECT count(*) FROM ${schema}.lix_archive_blocks)::int AS blocks`,
        );
        const label = `${autovacuum ? 'store VACUUM + autovacuum (naptime 1 s)' : 'no vacuum'}, ${when} (${counts.rows[0].blocks} blocks, ${counts.rows[0].tail} tail rows)`;
        const ratio = bytes / rawJson;
        lines.push(
          `| bytes in PostgreSQL / corpus raw JSON, ${label} | ${bytes} | ${rawJson} | ${ratio.toFixed(3)} | ${autovacuum ? `≤ 0.6 ${ratio <= 0.6 ? 'met' : 'missed'}` : ''} |`,
        );
      };
      await measure(`right after the last append (load took ${loadSeconds.toFixed(1)} s)`);
      // The sessions went quiet: their shorter tails are compacted after compactIdleMs (5 s).
      await new Promise((resolve) => setTimeout(resolve, 8000));
      await measure('8 s later (idle compactions done)');
      await sizing.close();
    }
    console.log(lines.join('\n'));
  } finally {
    await refPool.end();
    await driver.close();
    await redis.stop();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
