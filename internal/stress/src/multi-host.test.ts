import { describe, expect, it } from 'vitest';
import { formatReport } from './report.js';
import { runStress } from './run.js';

/**
 * Multi-host mode with the PostgreSQL archive, CI size: 4 workers, each its own "host"
 * (own PID namespace, private temporary folder; nothing shared but Redis and PostgreSQL),
 * 2 on ioredis and 2 on node-redis, on the 3-master cluster, with worker SIGKILLs, a master
 * failover and a SIGKILL + restart of the PostgreSQL server. Invariants only, never speed.
 */
describe('stress harness, multi-host on PostgreSQL (CI size)', () => {
  it('keeps every acknowledged message exactly once and in order through worker, Redis master and PostgreSQL kills', async () => {
    const result = await runStress({
      workers: 4,
      sessions: 20,
      messagesPerSession: 16,
      durationMs: 12_000,
      seed: 20_261_201,
      topology: 'cluster',
      archive: 'postgres',
      multiHost: true,
      workerKills: 2,
      redisFaults: 1,
      postgresFaults: 1,
      concurrency: 5,
      evictAfterMs: 2000,
      idleChance: 0.1,
      sweepRounds: 0,
    });
    const report = formatReport(result);
    expect(
      result.targets.filter((target) => !target.ok),
      report,
    ).toEqual([]);
    const [phase] = result.phases;
    expect(phase?.archive).toBe('postgres');
    expect(phase?.multiHost).toBe(true);
    expect(phase!.verdict.sessions, report).toBe(20);
    expect(phase!.verdict.acknowledged, report).toBeGreaterThan(100);
    expect([phase!.verdict.lost, phase!.verdict.duplicated, phase!.verdict.outOfOrder], report).toEqual([0, 0, 0]);
    expect(phase!.faults.counts.postgresKill, report).toBeGreaterThanOrEqual(1);
    expect(phase!.faults.counts.masterFailover, report).toBeGreaterThanOrEqual(1);
    expect(phase!.faults.counts.workerKill, report).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
