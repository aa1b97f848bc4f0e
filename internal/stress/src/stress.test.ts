import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport } from './report.js';
import { runStress } from './run.js';
import { runSweep } from './sweep.js';

/**
 * The harness with small counts: 4 workers (2 on ioredis, 2 on node-redis), 40 sessions,
 * a single node and a 3+3 cluster, with worker SIGKILLs, a Redis node SIGKILL + restart,
 * a master SIGKILL + replica promotion; then the bad-input sweep. Invariants only, never speed.
 */
describe('stress harness (CI size)', () => {
  it('keeps every acknowledged message exactly once and in order through worker and Redis kills, with no cross-session hit or crash', async () => {
    const result = await runStress({
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
      sweepRounds: 0,
    });
    const report = formatReport(result);
    expect(
      result.targets.filter((target) => !target.ok),
      report,
    ).toEqual([]);

    const [single, cluster] = result.phases;
    expect(single?.topology).toBe('single');
    expect(cluster?.topology).toBe('cluster');
    for (const phase of result.phases) {
      expect(phase.verdict.sessions, report).toBe(40);
      expect(phase.verdict.acknowledged, report).toBeGreaterThan(200);
      expect(phase.verdict.lost, report).toBe(0);
      expect(phase.verdict.duplicated, report).toBe(0);
      expect(phase.verdict.outOfOrder, report).toBe(0);
      expect(phase.stats.crossSessionHits + phase.probe.crossSessionHits, report).toBe(0);
      expect(phase.faults.counts.workerKill, report).toBeGreaterThanOrEqual(1);
      // The workload really exercised the caches the isolation check is about.
      expect(phase.stats.semanticHits, report).toBeGreaterThan(0);
      expect(phase.stats.urlHits, report).toBeGreaterThan(0);
    }
    expect(single!.faults.counts.redisRestart, report).toBeGreaterThanOrEqual(1);
    expect(cluster!.faults.counts.masterFailover, report).toBeGreaterThanOrEqual(1);
  });

  it('gets a typed error or a result, never a crash or a hang, from every public API given bad input', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'lix-stress-sweep-'));
    try {
      const sweep = await runSweep({ rounds: 4, seed: 20_261_128, timeoutMs: 5000, workDir });
      const details = [
        ...Object.entries(sweep.byApi)
          .filter(([, counts]) => counts.crashes + counts.hangs > 0)
          .map(([api, counts]) => `${api}: ${counts.crashes} crashes, ${counts.hangs} hangs`),
        ...sweep.examples,
      ].join('\n');
      expect(sweep.tried).toBe(sweep.apis * 4);
      expect(sweep.typed).toBeGreaterThan(0);
      expect({ crashes: sweep.crashes, hangs: sweep.hangs }, details).toEqual({ crashes: 0, hangs: 0 });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
