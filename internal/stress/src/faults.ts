import type { Rng } from './rng.js';
import type { FaultKind, RedisFault, Topology } from './topology.js';
import type { WorkerPool } from './worker-pool.js';

/** When each fault fires, in ms from the start of the phase. */
export interface FaultSchedule {
  workerKills: { atMs: number; slot: number; downMs: number }[];
  redisFaults: number[];
  /** SIGKILLs of the PostgreSQL server (postmaster and backends), each restarted after `downMs`. */
  postgresKills: { atMs: number; downMs: number }[];
}

/** Spreads the faults over the first 5–65 % of the phase, so the system runs on after the last one. */
export function planFaults(rng: Rng, durationMs: number, workerCount: number, workerKills: number, redisFaults: number, postgresKills = 0): FaultSchedule {
  const at = () => Math.round(durationMs * (0.05 + 0.6 * rng.next()));
  // Drawn from a fork, so adding PostgreSQL kills leaves the other faults of a seed as they were.
  const pgRng = rng.fork('postgres');
  return {
    postgresKills: Array.from({ length: postgresKills }, () => ({
      atMs: Math.round(durationMs * (0.05 + 0.6 * pgRng.next())),
      downMs: pgRng.int(200, 1500),
    })).sort((a, b) => a.atMs - b.atMs),
    workerKills: Array.from({ length: workerKills }, () => ({ atMs: at(), slot: rng.int(0, workerCount - 1), downMs: rng.int(50, 600) })).sort(
      (a, b) => a.atMs - b.atMs,
    ),
    redisFaults: Array.from({ length: redisFaults }, at).sort((a, b) => a - b),
  };
}

/** What the injector did. */
export interface FaultLog {
  counts: Record<FaultKind, number>;
  redisFaults: RedisFault[];
  /** Faults that could not be carried out (e.g. a failover that did not happen in time). */
  failures: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs the schedule: worker kills on one timeline and Redis faults on another (one at a
 * time: a failover must finish before the next master dies). Resolves when all are done.
 */
export async function injectFaults(
  schedule: FaultSchedule,
  startedAt: number,
  pool: WorkerPool,
  topology: Topology,
  rng: Rng,
  log: FaultLog,
  postgres?: { kill(): Promise<void>; restart(): Promise<void> },
): Promise<void> {
  const waitUntil = async (atMs: number) => {
    const delay = startedAt + atMs - Date.now();
    if (delay > 0) await sleep(delay);
  };
  const workerLine = (async () => {
    for (const kill of schedule.workerKills) {
      await waitUntil(kill.atMs);
      try {
        await pool.killAndRestart(kill.slot, kill.downMs);
        log.counts.workerKill++;
      } catch (error) {
        log.failures.push(`worker ${kill.slot} kill/restart: ${(error as Error).message}`);
      }
    }
  })();
  const redisLine = (async () => {
    for (const atMs of schedule.redisFaults) {
      await waitUntil(atMs);
      try {
        const fault = await topology.injectFault(rng);
        log.counts[fault.kind]++;
        log.redisFaults.push(fault);
      } catch (error) {
        log.failures.push(`${topology.kind} fault: ${(error as Error).message}`);
      }
    }
  })();
  const postgresLine = (async () => {
    if (!postgres) return;
    for (const kill of schedule.postgresKills) {
      await waitUntil(kill.atMs);
      try {
        await postgres.kill();
        await sleep(kill.downMs);
        await postgres.restart();
        log.counts.postgresKill++;
      } catch (error) {
        log.failures.push(`PostgreSQL kill/restart: ${(error as Error).message}`);
      }
    }
  })();
  await Promise.all([workerLine, redisLine, postgresLine]);
}

/** An empty log. */
export function emptyFaultLog(): FaultLog {
  return { counts: { workerKill: 0, redisRestart: 0, masterFailover: 0, postgresKill: 0 }, redisFaults: [], failures: [] };
}
