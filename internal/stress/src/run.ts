import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPhase, type PhaseOptions, type PhaseResult } from './phase.js';
import { hashString } from './rng.js';
import type { SweepResult } from './sweep.js';
import type { TopologyKind } from './topology.js';
import { emptyVerdict, mergeVerdicts, type Verdict } from './verify.js';

/** Options of {@link runStress}; every one has a default (the full run). */
export interface StressOptions {
  workers: number;
  sessions: number;
  messagesPerSession: number;
  /** Workload time per topology, ms. */
  durationMs: number;
  seed: number;
  topology: TopologyKind | 'both';
  /** Worker SIGKILLs per topology. */
  workerKills: number;
  /** Redis node restarts (single) or master failovers (cluster) per topology. */
  redisFaults: number;
  concurrency: number;
  hotWindowSize: number;
  sessionMaxTokens: number | undefined;
  similarityThreshold: number;
  evictAfterMs: number;
  idleChance: number;
  clusterNodeTimeoutMs: number;
  /** `'file'`: a folder every worker shares; `'postgres'`: a throwaway PostgreSQL server. */
  archive: 'file' | 'postgres';
  /** Every worker its own "host": own PID namespace and private temporary folder. */
  multiHost: boolean;
  /** PostgreSQL server SIGKILLs + restarts per topology (with `archive: 'postgres'`). */
  postgresFaults: number;
  /** Inputs per API case in the bad-input sweep (0 skips the sweep). */
  sweepRounds: number;
  /** Per-call limit of the sweep, ms: a call still pending then counts as a hang. */
  sweepTimeoutMs: number;
  /** Keep the scratch directory (archives and ledgers) for inspection. */
  keep: boolean;
  progress?: (line: string) => void;
}

/** The defaults: 8 workers, 500 sessions, both topologies. */
export const DEFAULT_OPTIONS: StressOptions = {
  workers: 8,
  sessions: 500,
  messagesPerSession: 60,
  durationMs: 150_000,
  seed: 0,
  topology: 'both',
  workerKills: 8,
  redisFaults: 3,
  concurrency: 12,
  hotWindowSize: 20,
  sessionMaxTokens: 4000,
  similarityThreshold: 0.9,
  evictAfterMs: 8000,
  idleChance: 0.08,
  clusterNodeTimeoutMs: 1000,
  archive: 'file',
  multiHost: false,
  postgresFaults: 2,
  sweepRounds: 200,
  sweepTimeoutMs: 5000,
  keep: false,
};

/** One figure that must hold, and whether it did. */
export interface Target {
  name: string;
  value: number;
  ok: boolean;
}

/** Everything a run measured. */
export interface StressResult {
  seed: number;
  options: Omit<StressOptions, 'progress'>;
  machine: { cores: number; node: string; platform: string };
  phases: PhaseResult[];
  total: Verdict;
  sweep: SweepResult | undefined;
  targets: Target[];
  /** True when every target holds. */
  passed: boolean;
  workDir: string;
}

/** The checks of the issue (0 lost, duplicated, out of order, cross-session; no crash or hang) plus the harness's own. */
export function evaluateTargets(phases: readonly PhaseResult[], sweep: SweepResult | undefined, options: StressOptions): Target[] {
  const sum = (pick: (phase: PhaseResult) => number) => phases.reduce((total, phase) => total + pick(phase), 0);
  const zero = (name: string, value: number): Target => ({ name, value, ok: value === 0 });
  const targets: Target[] = [
    zero(
      'lost',
      sum((p) => p.verdict.lost),
    ),
    zero(
      'duplicated',
      sum((p) => p.verdict.duplicated),
    ),
    zero(
      'out of order',
      sum((p) => p.verdict.outOfOrder),
    ),
    zero(
      'cross-session hits',
      sum((p) => p.stats.crossSessionHits + p.probe.crossSessionHits),
    ),
    zero(
      'probe errors',
      sum((p) => p.probe.errors),
    ),
    zero(
      'foreign messages',
      sum((p) => p.verdict.foreign),
    ),
    zero(
      'seq mismatches',
      sum((p) => p.verdict.seqMismatches),
    ),
    zero(
      'context not a suffix of history',
      sum((p) => p.verdict.contextNotSuffix),
    ),
    zero(
      'wrong URL embeddings',
      sum((p) => p.stats.urlMismatches),
    ),
    zero(
      'unknown semantic responses',
      sum((p) => p.stats.unknownResponses),
    ),
    zero(
      'untyped errors',
      sum((p) => Object.entries(p.stats.errors).reduce((n, [key, count]) => n + (key.endsWith(':UNTYPED') ? count : 0), 0)),
    ),
    // The workload only sends valid messages: a validation error on addMessage is a harness bug.
    zero(
      'addMessage rejected as invalid input',
      sum((p) =>
        Object.entries(p.stats.errors).reduce(
          (n, [key, count]) => n + (/^addMessage:(INVALID_|CONTENT_TOO_LARGE|METADATA_TOO_LARGE)/.test(key) ? count : 0),
          0,
        ),
      ),
    ),
    zero(
      'worker crashes',
      sum((p) => p.workers.crashed),
    ),
    zero(
      'worker hangs',
      sum((p) => p.workers.hung),
    ),
    zero(
      'verification errors',
      sum((p) => p.verifyErrors.length),
    ),
    zero(
      'corrupt ledger lines',
      sum((p) => p.corruptLedgerLines),
    ),
    zero(
      'faults not carried out',
      sum((p) => p.faults.failures.length),
    ),
    { name: 'messages acknowledged', value: sum((p) => p.verdict.acknowledged), ok: sum((p) => p.verdict.acknowledged) > 0 },
  ];
  for (const phase of phases) {
    if (options.workerKills > 0)
      targets.push({ name: `${phase.topology}: worker kills`, value: phase.faults.counts.workerKill, ok: phase.faults.counts.workerKill >= 1 });
    if (options.redisFaults > 0) {
      const kind = phase.topology === 'single' ? 'redisRestart' : 'masterFailover';
      targets.push({
        name: `${phase.topology}: ${kind === 'redisRestart' ? 'Redis restarts' : 'master failovers'}`,
        value: phase.faults.counts[kind],
        ok: phase.faults.counts[kind] >= 1,
      });
    }
    if (options.archive === 'postgres' && options.postgresFaults > 0) {
      targets.push({ name: `${phase.topology}: PostgreSQL kills`, value: phase.faults.counts.postgresKill, ok: phase.faults.counts.postgresKill >= 1 });
    }
  }
  if (sweep) {
    targets.push(zero('bad-input crashes', sweep.crashes));
    targets.push(zero('bad-input hangs', sweep.hangs));
  }
  return targets;
}

/** Runs the whole harness: each topology in turn, then the bad-input sweep. */
export async function runStress(given: Partial<StressOptions> = {}): Promise<StressResult> {
  const options: StressOptions = { ...DEFAULT_OPTIONS, ...given };
  const workDir = mkdtempSync(join(tmpdir(), 'lix-stress-'));
  const topologies: TopologyKind[] = options.topology === 'both' ? ['single', 'cluster'] : [options.topology];
  const phases: PhaseResult[] = [];
  let sweep: SweepResult | undefined;
  try {
    for (const topology of topologies) {
      const phaseOptions: PhaseOptions = {
        topology,
        workers: options.workers,
        sessions: options.sessions,
        messagesPerSession: options.messagesPerSession,
        durationMs: options.durationMs,
        seed: (options.seed ^ hashString(topology)) >>> 0,
        workerKills: options.workerKills,
        redisFaults: options.redisFaults,
        concurrency: options.concurrency,
        hotWindowSize: options.hotWindowSize,
        sessionMaxTokens: options.sessionMaxTokens,
        similarityThreshold: options.similarityThreshold,
        evictAfterMs: options.evictAfterMs,
        idleChance: options.idleChance,
        clusterNodeTimeoutMs: options.clusterNodeTimeoutMs,
        archive: options.archive,
        multiHost: options.multiHost,
        postgresFaults: options.postgresFaults,
        workDir: join(workDir, topology),
        ...(options.progress ? { progress: options.progress } : {}),
      };
      phases.push(await runPhase(phaseOptions));
    }
    if (options.sweepRounds > 0) {
      options.progress?.('[sweep] calling every public API with bad input');
      // Loaded only when asked for: it imports every package's public API.
      const { runSweep } = await import('./sweep.js');
      sweep = await runSweep({ rounds: options.sweepRounds, seed: options.seed, timeoutMs: options.sweepTimeoutMs, workDir: join(workDir, 'sweep') });
    }
  } finally {
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
  const total = phases.reduce((into, phase) => mergeVerdicts(into, phase.verdict), emptyVerdict());
  const targets = evaluateTargets(phases, sweep, options);
  const { progress: _progress, ...printable } = options;
  return {
    seed: options.seed,
    options: printable,
    machine: { cores: cpus().length, node: process.version, platform: `${process.platform}/${process.arch}` },
    phases,
    total,
    sweep,
    targets,
    passed: targets.every((target) => target.ok),
    workDir,
  };
}
