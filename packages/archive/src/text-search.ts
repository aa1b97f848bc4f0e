import type { ArchivedTurn } from './turn-records.js';

/** A turn with its relevance score. */
export interface ScoredTurn {
  turn: ArchivedTurn;
  score: number;
}

const TOKEN = /[\p{L}\p{N}]+/gu;

function tokens(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** Okapi BM25 (k1 = 1.2, b = 0.75) over the session's turns; turns scoring 0 are left out. */
export function rankByBm25(turns: ArchivedTurn[], query: string, topK: number): ScoredTurn[] {
  const queryTerms = [...new Set(tokens(query))];
  if (queryTerms.length === 0 || turns.length === 0) return [];
  const docs = turns.map((turn) => tokens(turn.content));
  const avgLength = docs.reduce((sum, doc) => sum + doc.length, 0) / docs.length || 1;
  const docFreq = new Map<string, number>();
  const termFreqs = docs.map((doc) => {
    const tf = new Map<string, number>();
    for (const term of doc) tf.set(term, (tf.get(term) ?? 0) + 1);
    for (const term of queryTerms) if (tf.has(term)) docFreq.set(term, (docFreq.get(term) ?? 0) + 1);
    return tf;
  });
  const k1 = 1.2;
  const b = 0.75;
  const scored: ScoredTurn[] = [];
  termFreqs.forEach((tf, index) => {
    let score = 0;
    for (const term of queryTerms) {
      const f = tf.get(term);
      if (!f) continue;
      const n = docFreq.get(term) ?? 0;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      score += (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * docs[index]!.length) / avgLength));
    }
    if (score > 0) scored.push({ turn: turns[index]!, score });
  });
  return scored.sort((a, b2) => b2.score - a.score || a.turn.seq - b2.turn.seq).slice(0, topK);
}

/** Cosine similarity against every turn that has an embedding of the same dimension. */
export function rankByCosine(turns: ArchivedTurn[], vector: Float32Array, topK: number): ScoredTurn[] {
  let queryNorm = 0;
  for (let i = 0; i < vector.length; i++) queryNorm += vector[i]! * vector[i]!;
  queryNorm = Math.sqrt(queryNorm);
  if (queryNorm === 0) return [];
  const scored: ScoredTurn[] = [];
  for (const turn of turns) {
    const e = turn.embedding;
    if (!e || e.length !== vector.length) continue;
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < e.length; i++) {
      dot += e[i]! * vector[i]!;
      norm += e[i]! * e[i]!;
    }
    if (norm === 0) continue;
    scored.push({ turn, score: dot / (Math.sqrt(norm) * queryNorm) });
  }
  return scored.sort((a, b) => b.score - a.score || a.turn.seq - b.turn.seq).slice(0, topK);
}
