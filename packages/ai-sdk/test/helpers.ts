import { createHash } from 'node:crypto';
import type { LanguageModelV3GenerateResult, LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import { MockEmbeddingModelV3, MockLanguageModelV3, simulateReadableStream } from 'ai/test';

const DIMENSIONS = 64;
const STOPWORDS = new Set([
  'the',
  'a',
  'an',
  'is',
  'what',
  "what's",
  'whats',
  'me',
  'please',
  'tell',
  'of',
  'in',
  'do',
  'you',
  'know',
  'can',
  'could',
  'which',
]);
const SYNONYMS: Record<string, string> = { french: 'france', city: 'capital' };

/**
 * Deterministic test embedder: a bag of content words (stopwords dropped, a few
 * synonyms folded) hashed into 64 buckets. Rephrasings with the same content words
 * get similarity 1, unrelated questions about 0.
 */
export function embedText(text: string): number[] {
  const vector = new Array<number>(DIMENSIONS).fill(0);
  const words = text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !STOPWORDS.has(word))
    .map((word) => SYNONYMS[word] ?? word.replace(/'s$/, ''));
  for (const word of words) vector[createHash('sha1').update(word).digest().readUInt32LE(0) % DIMENSIONS]! += 1;
  if (words.length === 0) vector[0] = 1;
  return vector;
}

/** A MockEmbeddingModelV3 over {@link embedText}; `calls` counts the values it embedded. */
export function testEmbeddingModel(modelId = 'test-embedder'): MockEmbeddingModelV3 & { embeddedValues: string[] } {
  const embeddedValues: string[] = [];
  const model = new MockEmbeddingModelV3({
    provider: 'test',
    modelId,
    maxEmbeddingsPerCall: 100,
    doEmbed: async ({ values }) => {
      embeddedValues.push(...values);
      return { embeddings: values.map(embedText), usage: { tokens: values.length }, warnings: [] };
    },
  });
  return Object.assign(model, { embeddedValues });
}

export function usage(input: number, output: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: 0, cacheWrite: 0 },
    outputTokens: { total: output, text: output, reasoning: 0 },
  };
}

export function textResult(text: string, finish: 'stop' | 'length' = 'stop'): LanguageModelV3GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: finish, raw: finish },
    usage: usage(10, 5),
    response: { id: 'resp-1', modelId: 'mock-model', timestamp: new Date('2026-01-02T03:04:05.678Z') },
    warnings: [],
  };
}

export const STREAM_TIMESTAMP = new Date('2026-02-03T04:05:06.789Z');

export function streamParts(words: string[], finish: 'stop' | 'length' = 'stop'): LanguageModelV3StreamPart[] {
  return [
    { type: 'stream-start', warnings: [] },
    { type: 'response-metadata', id: 'resp-s', modelId: 'mock-model', timestamp: STREAM_TIMESTAMP },
    { type: 'text-start', id: 't1' },
    ...words.map((word): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't1', delta: word })),
    { type: 'text-end', id: 't1' },
    { type: 'finish', finishReason: { unified: finish, raw: finish }, usage: usage(10, words.length) },
  ];
}

/** A mock model answering every generate with `text` and every stream with `words`; counts its calls. */
export function testModel(
  options: { modelId?: string; provider?: string; text?: string; words?: string[]; finish?: 'stop' | 'length' } = {},
): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    provider: options.provider ?? 'mock-provider',
    modelId: options.modelId ?? 'mock-model',
    doGenerate: async () => textResult(options.text ?? 'Paris is the capital of France.', options.finish),
    doStream: async () => ({
      stream: simulateReadableStream({
        chunks: streamParts(options.words ?? ['Paris ', 'is ', 'the ', 'capital.'], options.finish),
        initialDelayInMs: null,
        chunkDelayInMs: null,
      }),
    }),
  });
}
