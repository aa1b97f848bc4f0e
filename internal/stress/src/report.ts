import type { PhaseResult } from './phase.js';
import type { StressResult } from './run.js';

function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function ratio(archive: number, raw: number): string {
  return raw === 0 ? '-' : `${mib(archive)} / ${mib(raw)} (${((archive / raw) * 100).toFixed(0)} %)`;
}

function sumErrors(phase: PhaseResult): number {
  return Object.values(phase.stats.errors).reduce((sum, count) => sum + count, 0);
}

/** A text table: first column left-aligned, the others right-aligned. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The one table of the issue: figures per topology and in total. */
export function reportTable(result: StressResult): string {
  const phases = result.phases;
  const header = ['figure', ...phases.map((phase) => phase.topology), ...(phases.length > 1 ? ['total'] : [])];
  const row = (name: string, pick: (phase: PhaseResult) => number, format: (value: number) => string = int, total: 'sum' | 'none' = 'sum') => [
    name,
    ...phases.map((phase) => format(pick(phase))),
    ...(phases.length > 1 ? [total === 'sum' ? format(phases.reduce((sum, phase) => sum + pick(phase), 0)) : ''] : []),
  ];
  const pair = (name: string, first: (phase: PhaseResult) => number, second: (phase: PhaseResult) => number) => [
    name,
    ...phases.map((phase) => `${int(first(phase))} / ${int(second(phase))}`),
    ...(phases.length > 1 ? [`${int(phases.reduce((s, p) => s + first(p), 0))} / ${int(phases.reduce((s, p) => s + second(p), 0))}`] : []),
  ];
  const rows: string[][] = [
    row('messages acknowledged', (p) => p.verdict.acknowledged),
    row('lost', (p) => p.verdict.lost),
    row('duplicated', (p) => p.verdict.duplicated),
    row('out of order', (p) => p.verdict.outOfOrder),
    row('cross-session semantic hits', (p) => p.stats.crossSessionHits + p.probe.crossSessionHits),
    pair(
      '  end probe: lookups / hits',
      (p) => p.probe.lookups,
      (p) => p.probe.hits,
    ),
    row('addMessage rejected (not acked)', (p) => p.verdict.failedCalls),
    row('unacked but stored (killed in flight / rejected)', (p) => p.verdict.unackedStored),
    row('foreign messages / seq mismatches', (p) => p.verdict.foreign + p.verdict.seqMismatches),
    row('getContext not the tail of getFull', (p) => p.verdict.contextNotSuffix),
    row('faults: worker SIGKILL (restarted)', (p) => p.faults.counts.workerKill),
    row('faults: Redis node SIGKILL + restart', (p) => p.faults.counts.redisRestart),
    row('faults: cluster master SIGKILL + failover', (p) => p.faults.counts.masterFailover),
    row('faults: PostgreSQL SIGKILL + restart', (p) => p.faults.counts.postgresKill),
    row('longest Redis outage', (p) => Math.max(0, ...p.faults.redisFaults.map((fault) => fault.outageMs)), ms, 'none'),
    row('worker crashes / hangs', (p) => p.workers.crashed + p.workers.hung),
    row('operations (all kinds)', (p) => p.totalOps),
    row('operations per second', (p) => p.opsPerSecond, int, 'none'),
    row('failed operations (typed, during faults)', sumErrors),
    row('addMessage p50', (p) => p.addMessageP50Ms, ms, 'none'),
    row('addMessage p99', (p) => p.addMessageP99Ms, ms, 'none'),
    row('getContext p50', (p) => p.getContextP50Ms, ms, 'none'),
    row('getContext p99', (p) => p.getContextP99Ms, ms, 'none'),
    pair(
      'semantic lookups / hits',
      (p) => p.stats.semanticHits + p.stats.semanticMisses,
      (p) => p.stats.semanticHits,
    ),
    row('  hits on another question of the session', (p) => p.stats.wrongTopicHits),
    pair(
      'URL embedding lookups / hits',
      (p) => p.stats.urlHits + p.stats.urlMisses,
      (p) => p.stats.urlHits,
    ),
    row('  hits not bit-exact', (p) => p.stats.urlMismatches),
    row('sessions evicted while idle', (p) => p.stats.evicted),
    row('Redis memory at end (masters)', (p) => p.redisUsedMemoryBytes, mib),
    row('Redis keys at end', (p) => p.redisKeys),
  ];
  rows.push([
    'archive bytes / raw JSON',
    ...phases.map((phase) => ratio(phase.archiveBytes, phase.rawJsonBytes)),
    ...(phases.length > 1
      ? [
          ratio(
            phases.reduce((s, p) => s + p.archiveBytes, 0),
            phases.reduce((s, p) => s + p.rawJsonBytes, 0),
          ),
        ]
      : []),
  ]);
  if (result.sweep) {
    const sweep = result.sweep;
    // The sweep is not per topology: its figures sit in the last column.
    const cells = (value: string) => [...(phases.length > 1 ? phases.map(() => '') : []), value];
    rows.push([`bad inputs tried (${sweep.apis} APIs)`, ...cells(int(sweep.tried))]);
    rows.push(['  typed errors', ...cells(int(sweep.typed))]);
    rows.push(['  accepted (valid after all)', ...cells(int(sweep.accepted))]);
    rows.push(['  crashes', ...cells(int(sweep.crashes))]);
    rows.push(['  hangs', ...cells(int(sweep.hangs))]);
  }
  return formatTable(header, rows);
}

/** The full text report: run settings, the table, the targets and any examples of failures. */
export function formatReport(result: StressResult): string {
  const o = result.options;
  const lines: string[] = [];
  lines.push(
    `lix-cache stress: seed ${result.seed}, ${o.workers} workers (half ioredis, half node-redis), ${o.sessions} sessions, ` +
      `≤ ${o.messagesPerSession} messages/session, ${(o.durationMs / 1000).toFixed(0)} s per topology, hot window ${o.hotWindowSize}, ` +
      `token budget ${o.sessionMaxTokens ?? 'none'}, idle eviction after ${o.evictAfterMs} ms`,
  );
  lines.push(
    `archive: ${o.archive === 'postgres' ? `PostgreSQL (throwaway server, ${o.postgresFaults} SIGKILL + restart per topology)` : 'file store, one shared folder'}` +
      `${o.multiHost ? '; multi-host: every worker in its own PID namespace with a private temporary folder' : ''}`,
  );
  lines.push(`machine: ${result.machine.cores} cores, Node ${result.machine.node}, ${result.machine.platform}`);
  lines.push('');
  lines.push(reportTable(result));
  lines.push('');
  const missed = result.targets.filter((target) => !target.ok);
  lines.push(missed.length === 0 ? 'targets: all met' : `targets MISSED: ${missed.map((target) => `${target.name} = ${target.value}`).join(', ')}`);
  const examples = [
    ...result.phases
      .filter((phase) => Object.keys(phase.stats.errors).length > 0)
      .map(
        (phase) =>
          `[${phase.topology}] failed calls by code: ${Object.entries(phase.stats.errors)
            .sort((a, b) => b[1] - a[1])
            .map(([key, count]) => `${key} ${count}`)
            .join(', ')}`,
      ),
    ...result.phases.flatMap((phase) => [
      ...phase.verdict.examples.map((text) => `[${phase.topology}] ${text}`),
      ...phase.verifyErrors.slice(0, 5).map((text) => `[${phase.topology}] verify: ${text}`),
      ...phase.faults.failures.map((text) => `[${phase.topology}] fault: ${text}`),
      ...phase.workers.crashOutput.slice(0, 5).map((text) => `[${phase.topology}] ${text}`),
    ]),
    ...Object.entries(result.sweep?.byApi ?? {})
      .filter(([, counts]) => counts.crashes + counts.hangs > 0)
      .map(([api, counts]) => `[sweep] ${api}: ${counts.crashes} crashes, ${counts.hangs} hangs in ${counts.tried} inputs`),
    ...(result.sweep?.examples ?? []).map((text) => `[sweep] ${text}`),
  ];
  if (examples.length > 0) {
    lines.push('');
    lines.push('details:');
    for (const example of examples.slice(0, 60)) lines.push(`  - ${example}`);
  }
  return lines.join('\n');
}
