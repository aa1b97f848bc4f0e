import { describe, expect, it } from 'vitest';
import { formatReport } from './report.js';
import { runStress, type StressResult } from './run.js';

/**
 * The harness with small counts: 4 workers (2 on ioredis, 2 on node-redis), 40 sessions,
 * a single node and a 3+3 cluster, with worker SIGKILLs, a Redis node SIGKILL + restart,
 * a master SIGKILL + replica promotion, then the bad-input sweep. It asserts the
 * invariants only, never speed.
 */
describe('stress harness (CI size)', () => {
  let result: StressResult | undefined;

  it('keeps every acknowledged message exactly once and in order through worker and Redis kills, with no cross-session hit, crash or hang', async () => {
    result = await runStress({
      workers: 4,
      sessions: 40,
      messagesPerSession: 24,
      durationMs: 16_000,
      seed: 20_261_128,
      topology: 'both',
      workerKills: 2,
      redisFaults: 1,
      concurrency: 6,
      evictAfterMs: 2000,
      idleChance: 0.1,
      sweepRounds: 4,
      sweepTimeoutMs: 5000,
    });
    const report = formatReport(result);
    const missed = result.targets.filter((target) => !target.ok);
    expect(missed, report).toEqual([]);

    const [single, cluster] = result.phases;
    expect(single?.topology).toBe('single');
    expect(cluster?.topology).toBe('cluster');
    for (const phase of result.phases) {
      expect(phase.verdict.sessions, report).toBe(40);
      expect(phase.verdict.acknowledged, report).toBeGreaterThan(200);
      expect(phase.verdict.lost, report).toBe(0);
      expect(phase.verdict.duplicated, report).toBe(0);
      expect(phase.verdict.outOfOrder, report).toBe(0);
      expect(phase.stats.crossSessionHits, report).toBe(0);
      expect(phase.faults.counts.workerKill, report).toBeGreaterThanOrEqual(1);
      // The workload really exercised the caches the cross-session check is about.
      expect(phase.stats.semanticHits, report).toBeGreaterThan(0);
      expect(phase.stats.urlHits, report).toBeGreaterThan(0);
    }
    expect(single!.faults.counts.redisRestart, report).toBeGreaterThanOrEqual(1);
    expect(cluster!.faults.counts.masterFailover, report).toBeGreaterThanOrEqual(1);
    expect(result.sweep?.tried, report).toBeGreaterThan(50);
    expect(result.sweep?.crashes, report).toBe(0);
    expect(result.sweep?.hangs, report).toBe(0);
    expect(result.sweep!.typed, report).toBeGreaterThan(0);
  });
});
