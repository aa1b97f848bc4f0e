// Archive benchmark (pnpm --filter @lix/archive bench). Every figure is printed next to a
// reference measured in the same run, because the machine is shared: raw appendFileSync of
// the turn's JSON line for appends, JSON.parse of a JSON-lines file for loads, and
// node:zlib brotli of each whole session for size.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { brotliCompressSync, constants } from 'node:zlib';
import { loadCorpus } from '@lix/test-utils';
import { ConversationArchive, type ArchiveCodec } from '@lix/archive';
import { storeAppend } from './store-append.js';

const corpus = loadCorpus();
const allTurns = corpus.flatMap((c) => c.turns);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p99 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
const fmt = (n: number, d = 3) => n.toFixed(d);
const codec: ArchiveCodec = (process.env.LIX_BENCH_CODEC as ArchiveCodec | undefined) ?? 'brotli';
/** Long enough for every session to go idle (1 s without an append) and have its tail compacted. */
const idle = () => new Promise((resolve) => setTimeout(resolve, 1_300));
const root = mkdtempSync(join(tmpdir(), 'lix-archive-bench-'));

interface Row {
  figure: string;
  target: string;
  value: string;
  reference: string;
  ratio: string;
  verdict: string;
}
const rows: Row[] = [];
const row = (figure: string, target: string, value: string, reference = '', ratio = '', verdict = '') =>
  rows.push({ figure, target, value, reference, ratio, verdict });

try {
  // 1. A 4,000-turn session, one turn at a time: cost of each append by position, compactions included.
  const longDir = join(root, 'long');
  const archive = new ConversationArchive({ dir: longDir, codec });
  const refFile = join(root, 'reference.jsonl');
  const times: number[] = [];
  const refTimes: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const turn = allTurns[i % allTurns.length]!;
    let started = performance.now();
    await archive.appendTurn('long', turn);
    times.push(performance.now() - started);
    started = performance.now();
    appendFileSync(refFile, `${JSON.stringify(turn)}\n`);
    refTimes.push(performance.now() - started);
  }
  const early = times.slice(0, 500);
  const late = times.slice(3500, 4000);
  const growth = mean(late) / mean(early);
  row('mean append, turns 0–500 (ms)', '', fmt(mean(early)), fmt(mean(refTimes.slice(0, 500))), `${fmt(mean(early) / mean(refTimes.slice(0, 500)), 1)}×`);
  row('mean append, turns 3,500–4,000 (ms)', '', fmt(mean(late)), fmt(mean(refTimes.slice(3500))), `${fmt(mean(late) / mean(refTimes.slice(3500)), 1)}×`);
  row('mean(3,500–4,000) / mean(0–500)', '≤ 1.2×', `${fmt(growth, 2)}×`, '', '', growth <= 1.2 ? 'met' : 'missed');
  row(
    'median append, turns 0–500 / 3,500–4,000 (ms)',
    '',
    `${fmt(median(early))} / ${fmt(median(late))}`,
    `${fmt(median(refTimes.slice(0, 500)))} / ${fmt(median(refTimes.slice(3500)))}`,
  );
  row(
    'p99 append, turns 0–500 / 3,500–4,000 (ms)',
    '',
    `${fmt(p99(early))} / ${fmt(p99(late))}`,
    `${fmt(p99(refTimes.slice(0, 500)))} / ${fmt(p99(refTimes.slice(3500)))}`,
  );

  // 2. loadRecent(20) against loadAll of the same 4,000-turn session (medians of 15), once the
  // session is idle (its last compaction done), as when a cold session is re-hydrated.
  await idle();
  const recentRuns: number[] = [];
  const allRuns: number[] = [];
  const refLoadRuns: number[] = [];
  for (let run = 0; run < 15; run++) {
    let started = performance.now();
    await archive.loadAll('long');
    allRuns.push(performance.now() - started);
    started = performance.now();
    await archive.loadRecent('long', 20);
    recentRuns.push(performance.now() - started);
    started = performance.now();
    readFileSync(refFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    refLoadRuns.push(performance.now() - started);
  }
  const recentRatio = median(recentRuns) / median(allRuns);
  row('loadAll, 4,000 turns (ms, median)', '', fmt(median(allRuns)), fmt(median(refLoadRuns)), `${fmt(median(allRuns) / median(refLoadRuns), 2)}×`);
  row('loadRecent(20), 4,000 turns (ms, median)', '', fmt(median(recentRuns)));
  row('loadRecent(20) / loadAll', '≤ 0.1×', `${fmt(recentRatio, 3)}×`, '', '', recentRatio <= 0.1 ? 'met' : 'missed');

  // 3. A 140-turn session written one turn at a time (median of 9 sessions), each in a fresh
  // archive. Wall time: the 140 appends, acknowledged. CPU time: also the work the store does
  // when the session goes idle (1 s after its last append the tail is merged into a block).
  const session = allTurns.slice(0, 140);
  const writeRuns: number[] = [];
  const writeCpu: number[] = [];
  const refWriteRuns: number[] = [];
  for (let run = 0; run < 9; run++) {
    const fresh = new ConversationArchive({ dir: join(root, `s140-${run}`), codec });
    const cpuBefore = process.cpuUsage();
    let started = performance.now();
    for (const turn of session) await fresh.appendTurn(`s140-${run}`, turn);
    writeRuns.push(performance.now() - started);
    await idle();
    const cpu = process.cpuUsage(cpuBefore);
    writeCpu.push((cpu.user + cpu.system) / 1000);
    const ref = join(root, `s140-${run}.jsonl`);
    started = performance.now();
    for (const turn of session) appendFileSync(ref, `${JSON.stringify(turn)}\n`);
    refWriteRuns.push(performance.now() - started);
    await fresh.close();
  }
  row(
    '140-turn session, one turn at a time, acknowledged (ms, median of 9)',
    '≤ 30',
    fmt(median(writeRuns), 1),
    fmt(median(refWriteRuns), 1),
    `${fmt(median(writeRuns) / median(refWriteRuns), 1)}×`,
    median(writeRuns) <= 30 ? 'met' : 'missed',
  );
  row('140-turn session, acknowledged: mean / p99 of the 9 (ms)', '', `${fmt(mean(writeRuns), 1)} / ${fmt(p99(writeRuns), 1)}`);
  row(
    '140-turn session, CPU time of the process, appends + idle compaction (ms, median of 9; mean / p99; load-independent)',
    '',
    `${fmt(median(writeCpu), 1)} (${fmt(mean(writeCpu), 1)} / ${fmt(p99(writeCpu), 1)})`,
  );

  // 4. The whole corpus, one turn at a time: bytes on disk (compactions included, no final compact) vs raw JSON.
  const corpusDir = join(root, 'corpus');
  const corpusArchive = new ConversationArchive({ dir: corpusDir, codec });
  let rawBytes = 0;
  let idealBytes = 0;
  const corpusTimes: number[] = [];
  for (const conversation of corpus) {
    for (const turn of conversation.turns) {
      rawBytes += Buffer.byteLength(JSON.stringify(turn));
      const started = performance.now();
      await corpusArchive.appendTurn(conversation.id, turn);
      corpusTimes.push(performance.now() - started);
    }
    idealBytes += brotliCompressSync(Buffer.from(JSON.stringify(conversation.turns)), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength;
  }
  const diskSize = () => readdirSync(corpusDir).reduce((sum, f) => sum + statSync(join(corpusDir, f)).size, 0);
  const rightAfter = diskSize() / rawBytes;
  // Sessions go idle: their kept leases end and take each tail into a block.
  await idle();
  await corpusArchive.close();
  const ratio = diskSize() / rawBytes;
  row(
    'corpus bytes on disk / raw JSON, as appended, once the sessions are idle',
    '≤ 0.40',
    fmt(ratio),
    fmt(idealBytes / rawBytes),
    `${fmt(ratio / (idealBytes / rawBytes), 2)}×`,
    ratio <= 0.4 ? 'met' : 'missed',
  );
  row('corpus bytes on disk / raw JSON, right after the last append (idle compactions not yet run)', '', fmt(rightAfter));
  row('corpus append, mean / median / p99 (ms)', '', `${fmt(mean(corpusTimes))} / ${fmt(median(corpusTimes))} / ${fmt(p99(corpusTimes))}`);
  const reader = new ConversationArchive({ dir: corpusDir, codec });
  for (const conversation of corpus) {
    const loaded = (await reader.loadAll(conversation.id)).length;
    if (loaded !== conversation.turns.length) throw new Error(`benchmark sanity check failed: ${loaded} turns read back`);
  }
  await reader.close();

  // 5. The store's append alone against a raw write() of the turn's JSON line to an open file,
  // one writer per session: 1 session, and 50 sessions at once (new sessions each run; medians of 5 runs after a warm-up).
  for (const sessions of [1, 50]) {
    const ours: number[] = [];
    const reference: number[] = [];
    const latencies: number[] = [];
    for (let run = 0; run < 6; run++) {
      const result = await storeAppend(join(root, 'alone'), allTurns, 1000, sessions, `c${sessions}-${run}`);
      if (run === 0) continue;
      ours.push(result.ours.opsPerSecond);
      reference.push(result.reference.opsPerSecond);
      latencies.push(...result.ours.latenciesMs);
    }
    const r = median(ours) / median(reference);
    row(
      `store append alone, ${sessions === 1 ? '1 session' : '50 sessions at once'} (ops/s, median of 5; vs raw write)`,
      '',
      fmt(median(ours), 0),
      fmt(median(reference), 0),
      `${fmt(r, 3)}×`,
    );
    row(
      `store append alone, ${sessions === 1 ? '1 session' : '50 sessions at once'}: mean / median / p99 latency (ms)`,
      '',
      `${fmt(mean(latencies))} / ${fmt(median(latencies))} / ${fmt(p99(latencies))}`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

console.log(
  `${new Date().toISOString().slice(0, 10)}, ${cpus().length} shared cores, load average ${loadavg()[0]!.toFixed(1)}, Node ${process.version}, codec ${codec}; corpus ${corpus.length} conversations, ${allTurns.length} turns`,
);
console.log('references: raw appendFileSync of the JSON line (appends); JSON.parse of a JSON-lines file (loads); brotli q11 of each whole session (size)');
console.log('| figure | target | lix | reference | ratio | |');
console.log('|---|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.figure} | ${r.target} | ${r.value} | ${r.reference} | ${r.ratio} | ${r.verdict} |`);
