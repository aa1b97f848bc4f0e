import { Embeddings } from '@langchain/core/embeddings';

const STOPWORDS = new Set([
  'a',
  'an',
  'the',
  'is',
  'are',
  'of',
  'what',
  'whats',
  's',
  'me',
  'tell',
  'please',
  'do',
  'you',
  'know',
  'in',
  'it',
  'for',
  'to',
  'can',
  'i',
]);
const DIMENSIONS = 64;

/**
 * DEMO EMBEDDINGS, not a language model: a bag of content words hashed into 64 dimensions,
 * so "What is the capital of France?" and "Tell me, what's the capital of France?" embed
 * alike with no network and no model download. Use a real `Embeddings` (OpenAIEmbeddings,
 * a local transformers.js model, …) in an application.
 */
export class DemoEmbeddings extends Embeddings {
  constructor() {
    super({});
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return Promise.all(documents.map((document) => this.embedQuery(document)));
  }

  async embedQuery(document: string): Promise<number[]> {
    const vector = new Array<number>(DIMENSIONS).fill(0);
    for (let word of document
      .toLowerCase()
      .replaceAll(/['’]/g, '')
      .split(/[^a-z0-9]+/)) {
      if (word === '' || STOPWORDS.has(word)) continue;
      if (word.length > 3 && word.endsWith('s')) word = word.slice(0, -1);
      let hash = 0x811c9dc5;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
      vector[hash % DIMENSIONS]! += 1;
    }
    if (!vector.some((value) => value !== 0)) vector[0] = 1;
    return vector;
  }
}
