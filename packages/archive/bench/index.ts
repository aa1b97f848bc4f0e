// Archive benchmark: append cost at turn 10 vs 1000, a 140-turn session written turn by
// turn, loadAll of it, and bytes on disk versus raw JSON for the whole corpus, per codec.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadCorpus } from '@lix/test-utils';
import { ConversationArchive, type ArchiveCodec } from '@lix/archive';

const corpus = loadCorpus();
const allTurns = corpus.flatMap((c) => c.turns);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;

async function measure(codec: ArchiveCodec) {
  const dir = mkdtempSync(join(tmpdir(), `lix-archive-bench-${codec}-`));
  try {
    const archive = new ConversationArchive({ dir, codec });
    // Append cost by position: a 1000-turn session, timing each append.
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const started = performance.now();
      await archive.appendTurn('long', allTurns[i % allTurns.length]!);
      times.push(performance.now() - started);
    }
    const at10 = median(times.slice(5, 15));
    const at1000 = median(times.slice(990, 1000));
    // 140-turn session, one turn at a time, and loadAll of it (medians of 5).
    const session = allTurns.slice(0, 140);
    const writeRuns: number[] = [];
    const loadRuns: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      for (const turn of session) await archive.appendTurn(`s140-${run}`, turn);
      writeRuns.push(performance.now() - started);
    }
    for (let run = 0; run < 20; run++) {
      const started = performance.now();
      await archive.loadAll(`s140-${run % 5}`);
      loadRuns.push(performance.now() - started);
    }
    // Whole corpus, one turn at a time: bytes on disk vs raw JSON of the same turns.
    const corpusDir = join(dir, 'corpus');
    const corpusArchive = new ConversationArchive({ dir: corpusDir, codec });
    let rawBytes = 0;
    for (const conversation of corpus) {
      for (const turn of conversation.turns) {
        rawBytes += Buffer.byteLength(JSON.stringify(turn));
        await corpusArchive.appendTurn(conversation.id, turn);
      }
    }
    const diskBytes = readdirSync(corpusDir).reduce((sum, f) => sum + statSync(join(corpusDir, f)).size, 0);
    for (const conversation of corpus) await corpusArchive.compact(conversation.id);
    const compactedBytes = readdirSync(corpusDir).reduce((sum, f) => sum + statSync(join(corpusDir, f)).size, 0);
    return { codec, at10, at1000, p99All: p99(times), write140: median(writeRuns), load140: median(loadRuns), ratio: diskBytes / rawBytes, compactedRatio: compactedBytes / rawBytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`machine: ${cpus().length} cores, Node ${process.version}; corpus ${corpus.length} conversations, ${allTurns.length} turns`);
const rows = [];
for (const codec of ['brotli', 'deflate', 'huffman', 'none'] as const) rows.push(await measure(codec));
const fmt = (n: number, d = 3) => n.toFixed(d);
console.log('| figure | target | ' + rows.map((r) => r.codec).join(' | ') + ' |');
console.log('|---|---|' + rows.map(() => '---:').join('|') + '|');
console.log(`| append turn 10, median (ms) | | ${rows.map((r) => fmt(r.at10)).join(' | ')} |`);
console.log(`| append turn 1000, median (ms) | | ${rows.map((r) => fmt(r.at1000)).join(' | ')} |`);
console.log(`| turn 1000 / turn 10 | ≤ 2× | ${rows.map((r) => fmt(r.at1000 / r.at10, 2) + '×').join(' | ')} |`);
console.log(`| p99 append over 1000 turns (ms) | | ${rows.map((r) => fmt(r.p99All)).join(' | ')} |`);
console.log(`| 140-turn session, one turn at a time (ms) | ≤ 50 | ${rows.map((r) => fmt(r.write140, 1)).join(' | ')} |`);
console.log(`| loadAll of 140 turns (ms) | ≤ 2 | ${rows.map((r) => fmt(r.load140)).join(' | ')} |`);
console.log(`| corpus bytes on disk / raw JSON, as appended | ≤ 0.40 | ${rows.map((r) => fmt(r.ratio)).join(' | ')} |`);
console.log(`| same after compact() of every session | | ${rows.map((r) => fmt(r.compactedRatio)).join(' | ')} |`);
