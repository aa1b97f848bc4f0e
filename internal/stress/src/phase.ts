import { mkdirSync, readdirSync, statSync } from 'node:fs';
import pg from 'pg';
import { startPostgresServer, type PostgresServerHandle } from '@lix/test-utils';
import { PostgresArchiveStore } from '@lix/archive/postgres';
import { join } from 'node:path';
import { emptyFaultLog, injectFaults, planFaults, type FaultLog } from './faults.js';
import { allLedgerFiles, readLedgers } from './ledger.js';
import { percentile } from './percentile.js';
import { Rng } from './rng.js';
import { openWorkerSystem, type DriverKind, type WorkerSystem } from './system.js';
import { startCluster, startSingle, type Topology, type TopologyKind } from './topology.js';
import { emptyVerdict, groupLedger, verifySession, type Verdict } from './verify.js';
import { WorkerPool, type PoolCounts } from './worker-pool.js';
import { OPERATIONS, type WorkerConfig, type WorkerStats } from './worker-protocol.js';
import { embedQuery, parseSemanticResponse, phraseQuery, sessionIdOf, TOPIC_COUNT, topicUrl } from './workload.js';

/** Settings of one topology's run. */
export interface PhaseOptions {
  topology: TopologyKind;
  workers: number;
  sessions: number;
  messagesPerSession: number;
  /** The workload runs at least until every fault is done and at most this long (unless faults take longer). */
  durationMs: number;
  seed: number;
  workerKills: number;
  redisFaults: number;
  concurrency: number;
  hotWindowSize: number;
  sessionMaxTokens: number | undefined;
  similarityThreshold: number;
  evictAfterMs: number;
  idleChance: number;
  clusterNodeTimeoutMs: number;
  /** Where the archive lives: a folder every worker shares, or a throwaway PostgreSQL server. */
  archive: 'file' | 'postgres';
  /** Each worker in its own PID namespace with a private temporary folder (see `WorkerPool`). */
  multiHost: boolean;
  /** SIGKILLs of the PostgreSQL server (with `archive: 'postgres'`), each followed by a restart. */
  postgresFaults: number;
  /** Scratch directory of this phase (archive and ledgers). */
  workDir: string;
  progress?: (line: string) => void;
}

/** Everything measured in one topology's run. */
export interface PhaseResult {
  topology: TopologyKind;
  verdict: Verdict;
  faults: FaultLog;
  workers: PoolCounts;
  stats: WorkerStats;
  /** Wall time of the workload (from start to stop), ms. */
  workloadMs: number;
  opsPerSecond: number;
  totalOps: number;
  addMessageP50Ms: number;
  addMessageP99Ms: number;
  getContextP50Ms: number;
  getContextP99Ms: number;
  redisUsedMemoryBytes: number;
  redisKeys: number;
  /** Folder bytes, or `pg_total_relation_size` of the store's tables with PostgreSQL. */
  archiveBytes: number;
  rawJsonBytes: number;
  archive: 'file' | 'postgres';
  multiHost: boolean;
  /**
   * The end-of-run isolation probe: every session asks every question (including those only
   * other sessions asked); a response owned by another session is a cross-session hit.
   */
  probe: { lookups: number; hits: number; crossSessionHits: number; errors: number };
  tornLedgerLines: number;
  corruptLedgerLines: number;
  verifyErrors: string[];
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

async function mapLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

/** Starts the topology, runs the workload under faults, stops it and verifies every session. */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const progress = options.progress ?? (() => undefined);
  const rng = new Rng(options.seed);
  const archiveDir = join(options.workDir, 'archive');
  const ledgerDir = join(options.workDir, 'ledgers');
  mkdirSync(archiveDir, { recursive: true });
  mkdirSync(ledgerDir, { recursive: true });
  const runTag = `${options.topology}-${options.seed.toString(36)}`;
  const keyPrefix = 'stress';

  let postgres: PostgresServerHandle | undefined;
  let archiveUrl: string | undefined;
  if (options.archive === 'postgres') {
    progress(`[${options.topology}] starting PostgreSQL`);
    // Each process has a pool of up to 10 connections; leave room for restarts and verifiers.
    postgres = await startPostgresServer({ settings: { max_connections: String(Math.max(100, options.workers * 24 + 40)) } });
    archiveUrl = postgres.url;
    const setup = new PostgresArchiveStore({ connectionString: archiveUrl });
    await setup.migrate();
    await setup.close();
  }
  progress(`[${options.topology}] starting Redis`);
  const topology: Topology = await (options.topology === 'single' ? startSingle() : startCluster(options.clusterNodeTimeoutMs)).catch(
    async (error: unknown) => {
      await postgres?.stop();
      throw error;
    },
  );
  try {
    // Half the workers on each client library, against the same keys and archive.
    const driverOf = (slot: number): DriverKind => (slot % 2 === 0 ? 'ioredis' : 'node-redis');
    const configFor = (slot: number, generation: number): WorkerConfig => ({
      slot,
      generation,
      workerCount: options.workers,
      sessions: options.sessions,
      messagesPerSession: options.messagesPerSession,
      runTag,
      driverKind: driverOf(slot),
      redis: topology.target,
      archiveDir,
      archiveUrl,
      ledgerDir,
      keyPrefix,
      seed: options.seed,
      concurrency: options.concurrency,
      hotWindowSize: options.hotWindowSize,
      sessionMaxTokens: options.sessionMaxTokens,
      similarityThreshold: options.similarityThreshold,
      evictAfterMs: options.evictAfterMs,
      idleChance: options.idleChance,
      // Two messages per turn; the writes are meant to end at about 70 % of the phase.
      turnIntervalMs: Math.floor((options.durationMs * 0.7) / Math.max(1, Math.ceil(options.messagesPerSession / 2))),
    });
    const pool = new WorkerPool(configFor, options.multiHost ? { hostsDir: join(options.workDir, 'hosts') } : {});
    progress(`[${options.topology}] starting ${options.workers} workers`);
    await pool.start(options.workers);

    const postgresKills = postgres ? options.postgresFaults : 0;
    const schedule = planFaults(rng.fork('faults'), options.durationMs, options.workers, options.workerKills, options.redisFaults, postgresKills);
    const faults = emptyFaultLog();
    const startedAt = Date.now();
    progress(
      `[${options.topology}] workload running; ${options.workerKills} worker kills, ${options.redisFaults} Redis faults and ${postgresKills} PostgreSQL kills scheduled`,
    );
    let faultsDone = false;
    const injector = injectFaults(schedule, startedAt, pool, topology, rng.fork('victims'), faults, postgres).finally(() => {
      faultsDone = true;
    });
    let lastNote = startedAt;
    while (!(faultsDone && (pool.allFinished() || Date.now() - startedAt >= options.durationMs))) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (Date.now() - lastNote >= 10_000) {
        lastNote = Date.now();
        progress(
          `[${options.topology}] ${Math.round((lastNote - startedAt) / 1000)} s: ${pool.stats.ops.addMessage} messages acked so far, faults ${JSON.stringify(faults.counts)}`,
        );
      }
    }
    await injector;
    await pool.stop(30_000);
    const workloadMs = Date.now() - startedAt;
    progress(`[${options.topology}] workload stopped after ${(workloadMs / 1000).toFixed(1)} s; verifying ${options.sessions} sessions`);

    // Verification reads every session back through both client libraries.
    const ledgers = readLedgers(allLedgerFiles(ledgerDir));
    const bySession = groupLedger(ledgers.records);
    const verifiers: WorkerSystem[] = (['ioredis', 'node-redis'] as const).map((driverKind) =>
      openWorkerSystem({
        driverKind,
        redis: topology.target,
        archiveDir,
        ...(archiveUrl ? { archiveUrl } : {}),
        keyPrefix,
        hotWindowSize: options.hotWindowSize,
        sessionMaxTokens: options.sessionMaxTokens,
        similarityThreshold: options.similarityThreshold,
        embeddingModelId: 'stress-model',
        evictAfterMs: options.evictAfterMs,
      }),
    );
    const verdict = emptyVerdict();
    const verifyErrors: string[] = [];
    const probe = { lookups: 0, hits: 0, crossSessionHits: 0, errors: 0 };
    let rawJsonBytes = 0;
    try {
      const sessionNumbers = Array.from({ length: options.sessions }, (_, i) => i);
      await mapLimit(sessionNumbers, 8, async (number) => {
        const session = verifiers[number % 2]!.session(sessionIdOf(runTag, number));
        try {
          const full = await session.getFull();
          const context = await session.getContext();
          verifySession(verdict, number, bySession.get(number), { full, context });
          const probeRng = new Rng(options.seed ^ Math.imul(number + 1, 0x2545f491));
          for (let topic = 0; topic < TOPIC_COUNT; topic++) {
            probe.lookups++;
            try {
              const response = await session.semanticGet(topicUrl(topic), embedQuery(phraseQuery(topic, probeRng)));
              if (response === null) continue;
              probe.hits++;
              if (parseSemanticResponse(String(response))?.sessionId !== sessionIdOf(runTag, number)) probe.crossSessionHits++;
            } catch {
              probe.errors++;
            }
          }
          rawJsonBytes += Buffer.byteLength(JSON.stringify(full.map(({ role, content, timestamp }) => ({ role, content, timestamp }))));
        } catch (error) {
          verifyErrors.push(`session ${number}: ${(error as Error)?.message ?? String(error)}`);
        }
      });
    } finally {
      await Promise.all(verifiers.map((verifier) => verifier.close()));
    }

    const stats = pool.stats;
    const totalOps = OPERATIONS.reduce((sum, op) => sum + stats.ops[op], 0);
    const result: PhaseResult = {
      topology: options.topology,
      verdict,
      faults,
      workers: pool.counts,
      stats,
      workloadMs,
      totalOps,
      opsPerSecond: totalOps / (workloadMs / 1000),
      addMessageP50Ms: percentile(stats.addLatencyMs, 50),
      addMessageP99Ms: percentile(stats.addLatencyMs, 99),
      getContextP50Ms: percentile(stats.contextLatencyMs, 50),
      getContextP99Ms: percentile(stats.contextLatencyMs, 99),
      redisUsedMemoryBytes: await topology.usedMemoryBytes(),
      redisKeys: await topology.keyCount(),
      archiveBytes: archiveUrl ? await postgresBytes(archiveUrl) : directoryBytes(archiveDir),
      rawJsonBytes,
      archive: options.archive,
      multiHost: options.multiHost,
      probe,
      tornLedgerLines: ledgers.tornLines,
      corruptLedgerLines: ledgers.corruptLines,
      verifyErrors,
    };
    // Latency samples have served their purpose; the JSON report carries the percentiles.
    stats.addLatencyMs = [];
    stats.contextLatencyMs = [];
    return result;
  } finally {
    await topology.stop();
    await postgres?.stop();
  }
}

/** `pg_total_relation_size` (indexes and TOAST included) of every table of the archive's schema. */
async function postgresBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname LIKE 'lix_archive_%'`,
    );
    return Number(result.rows[0].bytes);
  } finally {
    await client.end();
  }
}
