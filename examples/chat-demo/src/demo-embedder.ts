import { createHash } from 'node:crypto';

/**
 * DEMO EMBEDDER — not a language model. It hashes words and character trigrams of the
 * lower-cased text into a fixed number of buckets and L2-normalises the counts, so
 * texts sharing most of their words get a high cosine similarity. It is deterministic
 * and works offline, which is all the demo needs; use a real embedding model in
 * production (rephrasings with different words will not match here).
 */
export const DEMO_EMBEDDER_ID = 'demo-hashed-ngrams-256';

const DIMENSIONS = 256;
const STOPWORDS = new Set([
  'the',
  'a',
  'an',
  'is',
  'are',
  'what',
  "what's",
  'whats',
  'me',
  'please',
  'tell',
  'like',
  'in',
  'of',
  'for',
  'right',
  'now',
  'do',
  'you',
  'know',
  'can',
  'could',
]);

function bucket(feature: string): number {
  return createHash('sha1').update(feature).digest().readUInt32LE(0) % DIMENSIONS;
}

/** Embeds `text` into a unit-length 256-dimension vector (see the warning above). */
export function demoEmbed(text: string): Float32Array {
  const vector = new Float32Array(DIMENSIONS);
  const words = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !STOPWORDS.has(word));
  for (const word of words) {
    vector[bucket(`w:${word}`)]! += 2;
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) vector[bucket(`t:${padded.slice(i, i + 3)}`)]! += 1;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}

/** Cosine similarity of two unit vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
