import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Embeddings } from '@langchain/core/embeddings';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { ConversationArchive } from '@lix/archive';
import { KVError, type KVDriver } from '@lix/redis-pool';
import type { LixSemanticCache } from '../src/index.js';

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
  'i',
  'want',
  'to',
  'can',
  'could',
  'in',
  'it',
  'for',
  'on',
]);
const DIMENSIONS = 64;

/**
 * A deterministic embedding double that maps paraphrases together: a bag of content words
 * (lowercased, apostrophes and stopwords dropped, a plural `s` stripped), each hashed
 * (FNV-1a) into one of 64 dimensions. "What is the capital of France?" and "Tell me,
 * what's the capital of France?" embed identically; an unrelated question is near orthogonal.
 */
export class BagOfWordsEmbeddings extends Embeddings {
  calls = 0;

  constructor() {
    super({});
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return Promise.all(documents.map((document) => this.embedQuery(document)));
  }

  async embedQuery(document: string): Promise<number[]> {
    this.calls++;
    const vector = new Array<number>(DIMENSIONS).fill(0);
    const words = document
      .toLowerCase()
      .replaceAll(/['’]/g, '')
      .split(/[^a-z0-9]+/);
    for (let word of words) {
      if (word === '' || STOPWORDS.has(word)) continue;
      if (word.length > 3 && word.endsWith('s')) word = word.slice(0, -1);
      let hash = 0x811c9dc5;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
      vector[hash % DIMENSIONS]! += 1;
    }
    // A prompt of stopwords only still needs a non-zero vector.
    if (!vector.some((value) => value !== 0)) vector[0] = 1;
    return vector;
  }
}

/** An embedding model whose every call fails, as an unreachable provider would. */
export class FailingEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(): Promise<number[][]> {
    throw new Error('embedding provider unreachable (injected)');
  }
  async embedQuery(): Promise<number[]> {
    throw new Error('embedding provider unreachable (injected)');
  }
}

/** A FakeListChatModel that reports a model name, so two instances have different `llmKey`s, as two real models do. */
export class NamedFakeChatModel extends FakeListChatModel {
  readonly model: string;
  constructor(model: string, responses: string[], fields: Omit<ConstructorParameters<typeof FakeListChatModel>[0], 'responses'> = {}) {
    super({ ...fields, responses });
    this.model = model;
  }
  override _identifyingParams(): Record<string, unknown> {
    return { model: this.model };
  }
}

/** A driver wrapper counting calls per method (round trips), and one that can be made to fail. */
export function instrumentedDriver(inner: KVDriver): { driver: KVDriver; counts: Map<string, number>; reset(): void; failing: boolean } {
  const state = { counts: new Map<string, number>(), failing: false };
  const driver = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'connect' || property === 'close') return value;
      return (...args: unknown[]) => {
        state.counts.set(property, (state.counts.get(property) ?? 0) + 1);
        if (state.failing && property !== 'batch') {
          const error = new KVError('CONNECTION_LOST', `${property}: connection lost (injected)`);
          if (property === 'scan') {
            return {
              [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
            };
          }
          return Promise.reject(error);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    driver,
    get counts() {
      return state.counts;
    },
    reset: () => state.counts.clear(),
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
  };
}

/** A real `@lix/archive` in a fresh temp folder, and how to dispose of it. */
export interface TestArchive {
  archive: ConversationArchive;
  appendCalls(): number;
  close(): Promise<void>;
}

/** Creates a `ConversationArchive` counting its append calls (appendTurn and appendTurns). */
export function createTestArchive(): TestArchive {
  const dir = mkdtempSync(join(tmpdir(), 'lix-langchain-'));
  const archive = new ConversationArchive({ dir });
  let appends = 0;
  const appendTurns = archive.appendTurns.bind(archive);
  archive.appendTurns = (sessionId, turns, options) => {
    appends++;
    return appendTurns(sessionId, turns, options);
  };
  return {
    archive,
    appendCalls: () => appends,
    close: async () => {
      await archive.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Backend failures a `LixSemanticCache` absorbed: the ones it caught itself, plus those its
 * `SemanticCache` already served as misses, when that version counts them (`backendErrors`
 * by code). Either way each failed lookup or write is counted once.
 */
export async function absorbedFailures(cache: LixSemanticCache): Promise<number> {
  const own = cache.getStats();
  const inner = (await cache.semanticCache.getStats({ countStored: false })) as { backendErrors?: Record<string, number> };
  const counted = Object.values(inner.backendErrors ?? {}).reduce((sum, count) => sum + count, 0);
  return own.failedLookups + own.failedUpdates + counted;
}
