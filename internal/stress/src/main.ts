/**
 * `pnpm stress`: runs the reliability and scale harness and prints the report.
 *
 *   pnpm stress [--workers 8] [--sessions 500] [--messages-per-session 60] [--duration 150]
 *               [--seed N] [--topology single|cluster|both] [--worker-kills 8] [--redis-faults 3]
 *               [--sweep-rounds 40] [--archive file|postgres] [--multi-host] [--postgres-faults 2]
 *               [--json] [--keep]
 *
 * --multi-host runs every worker as its own "host" (own PID namespace via unshare, own
 * temporary folder); --archive postgres puts the archive on a throwaway PostgreSQL server
 * that is SIGKILLed --postgres-faults times per topology.
 *
 * Exits with 1 when a target is missed (any message lost, duplicated or out of order, a
 * cross-session hit, a crash or a hang).
 */
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { randomSeed } from './rng.js';
import { DEFAULT_OPTIONS, runStress, type StressOptions } from './run.js';

function positive(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    process.stderr.write(`--${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return value;
}

const { values } = parseArgs({
  options: {
    workers: { type: 'string' },
    sessions: { type: 'string' },
    'messages-per-session': { type: 'string' },
    duration: { type: 'string' },
    seed: { type: 'string' },
    topology: { type: 'string' },
    'worker-kills': { type: 'string' },
    'redis-faults': { type: 'string' },
    concurrency: { type: 'string' },
    'evict-after-ms': { type: 'string' },
    'sweep-rounds': { type: 'string' },
    archive: { type: 'string' },
    'multi-host': { type: 'boolean', default: false },
    'postgres-faults': { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'pnpm stress [--workers N] [--sessions N] [--messages-per-session N] [--duration SECONDS] [--seed N]\n' +
      '            [--topology single|cluster|both] [--worker-kills N] [--redis-faults N] [--concurrency N]\n' +
      '            [--evict-after-ms N] [--sweep-rounds N (0: no sweep)] [--archive file|postgres] [--multi-host]\n' +
      '            [--postgres-faults N] [--json] [--keep]\n',
  );
  process.exit(0);
}

const topology = values.topology ?? DEFAULT_OPTIONS.topology;
if (topology !== 'single' && topology !== 'cluster' && topology !== 'both') {
  process.stderr.write(`--topology must be single, cluster or both, got ${JSON.stringify(topology)}\n`);
  process.exit(2);
}

const archive = values.archive ?? DEFAULT_OPTIONS.archive;
if (archive !== 'file' && archive !== 'postgres') {
  process.stderr.write(`--archive must be file or postgres, got ${JSON.stringify(archive)}\n`);
  process.exit(2);
}

const options: Partial<StressOptions> = {
  archive,
  multiHost: values['multi-host'],
  postgresFaults: positive('postgres-faults', values['postgres-faults'], DEFAULT_OPTIONS.postgresFaults, true),
  workers: positive('workers', values.workers, DEFAULT_OPTIONS.workers),
  sessions: positive('sessions', values.sessions, DEFAULT_OPTIONS.sessions),
  messagesPerSession: positive('messages-per-session', values['messages-per-session'], DEFAULT_OPTIONS.messagesPerSession),
  durationMs: positive('duration', values.duration, DEFAULT_OPTIONS.durationMs / 1000) * 1000,
  seed: positive('seed', values.seed, randomSeed(), true),
  topology,
  workerKills: positive('worker-kills', values['worker-kills'], DEFAULT_OPTIONS.workerKills, true),
  redisFaults: positive('redis-faults', values['redis-faults'], DEFAULT_OPTIONS.redisFaults, true),
  concurrency: positive('concurrency', values.concurrency, DEFAULT_OPTIONS.concurrency),
  evictAfterMs: positive('evict-after-ms', values['evict-after-ms'], DEFAULT_OPTIONS.evictAfterMs),
  sweepRounds: positive('sweep-rounds', values['sweep-rounds'], DEFAULT_OPTIONS.sweepRounds, true),
  keep: values.keep,
  progress: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
};
process.stderr.write(`seed ${options.seed}\n`);

const result = await runStress(options);
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write(`${formatReport(result)}\n`);
  if (options.keep) process.stdout.write(`scratch directory kept: ${result.workDir}\n`);
}
process.exit(result.passed ? 0 : 1);
