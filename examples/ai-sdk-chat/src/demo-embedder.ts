import { createHash } from 'node:crypto';
import type { EmbeddingModelV3 } from '@ai-sdk/provider';

/**
 * DEMO EMBEDDER — not a language model. It hashes the content words of a text (stopwords
 * dropped, a few synonyms folded together) into 128 buckets, so two questions using
 * the same content words get a high cosine similarity. Deterministic and offline, which
 * is all this demo needs; use a real embedding model in production.
 */
export const DEMO_EMBEDDER_ID = 'demo-bag-of-words-128';

const DIMENSIONS = 128;
const STOPWORDS = new Set([
  'the',
  'a',
  'an',
  'is',
  'are',
  'what',
  "what's",
  'me',
  'please',
  'tell',
  'of',
  'in',
  'do',
  'does',
  'how',
  'can',
  'you',
  'which',
  'explain',
  'describe',
  'briefly',
]);
const SYNONYMS: Record<string, string> = { city: 'capital', french: 'france', works: 'work', working: 'work' };

function embedText(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  const words = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .split(/\s+/)
    .map((word) => word.replace(/'s$/, ''))
    .filter((word) => word !== '' && !STOPWORDS.has(word))
    .map((word) => SYNONYMS[word] ?? word);
  for (const word of words) vector[createHash('sha1').update(word).digest().readUInt32LE(0) % DIMENSIONS]! += 1;
  if (words.length === 0) vector[0] = 1;
  return vector;
}

/** The demo embedder as an AI SDK embedding model (specification v3), counting the texts it embedded. */
export function demoEmbeddingModel(): EmbeddingModelV3 & { embeddedTexts: number } {
  const model = {
    specificationVersion: 'v3' as const,
    provider: 'lix-demo',
    modelId: DEMO_EMBEDDER_ID,
    maxEmbeddingsPerCall: 256,
    supportsParallelCalls: true,
    embeddedTexts: 0,
    async doEmbed({ values }: { values: string[] }) {
      model.embeddedTexts += values.length;
      return { embeddings: values.map(embedText), usage: { tokens: values.length }, warnings: [] };
    },
  };
  return model;
}
