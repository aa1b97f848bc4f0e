import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Root of the repository's `fixtures/` folder (corpus and legacy `.huff` samples). */
export const fixturesDir: string = resolve(here, '../../../fixtures');
/** The 146-conversation corpus used by tests and benchmarks. */
export const corpusPath: string = join(fixturesDir, 'corpus', 'conversations.jsonl');
/** Files written by the Python original: `archives/`, `expected/`, `codec/`. */
export const legacyHuffDir: string = join(fixturesDir, 'legacy-huff');

export interface CorpusTurn {
  role: string;
  content: string;
  timestamp: number;
  metadata: Record<string, unknown>;
}

export interface CorpusConversation {
  id: string;
  turns: CorpusTurn[];
}

let cached: CorpusConversation[] | undefined;

/** Parses the corpus once per process. */
export function loadCorpus(): CorpusConversation[] {
  if (cached) return cached;
  const lines = readFileSync(corpusPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  cached = lines.map((line) => JSON.parse(line) as CorpusConversation);
  return cached;
}
