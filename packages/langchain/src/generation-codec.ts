import { deserializeStoredGeneration, serializeGeneration } from '@langchain/core/caches';
import type { StoredMessage } from '@langchain/core/messages';
import type { Generation } from '@langchain/core/outputs';
import type { JsonObject } from '@lix/session-window';
import { toJsonObject } from './json.js';

/** Format version of {@link CachedGenerations}; a record of another version is a miss. */
export const GENERATIONS_FORMAT = 1;

/** One generation as the cache stores it: LangChain's `StoredGeneration` plus `generationInfo`. */
export interface CachedGeneration {
  text: string;
  message?: { type: string; data: JsonObject };
  generationInfo?: JsonObject;
}

/** What one cache entry holds. */
export interface CachedGenerations {
  v: number;
  generations: CachedGeneration[];
}

/**
 * Encodes generations with LangChain's `serializeGeneration` (a chat message becomes its
 * `toDict()` form), checked to be JSON so a value never comes back different. Throws a
 * `LixLangChainError` (`INVALID_MESSAGE`) for what JSON cannot hold.
 */
export function encodeGenerations(generations: readonly Generation[]): CachedGenerations {
  return {
    v: GENERATIONS_FORMAT,
    generations: generations.map((generation, index) => {
      const stored = serializeGeneration(generation);
      const out: CachedGeneration = { text: stored.text };
      if (stored.message !== undefined) out.message = { type: stored.message.type, data: toJsonObject(stored.message.data, `generations[${index}].message`) };
      if (generation.generationInfo !== undefined) out.generationInfo = toJsonObject(generation.generationInfo, `generations[${index}].generationInfo`);
      return out;
    }),
  };
}

function isCachedGenerations(value: unknown): value is CachedGenerations {
  if (value === null || typeof value !== 'object') return false;
  const { v, generations } = value as Partial<CachedGenerations>;
  return v === GENERATIONS_FORMAT && Array.isArray(generations) && generations.every((g) => g !== null && typeof g === 'object' && typeof g.text === 'string');
}

/**
 * Restores generations with LangChain's `deserializeStoredGeneration`, so chat messages come
 * back as message instances (fresh ones each time: the chat model rewrites the usage of a
 * cached message). `null` when the value is not a record of this format.
 */
export function decodeGenerations(value: unknown): Generation[] | null {
  if (!isCachedGenerations(value)) return null;
  return value.generations.map((cached) => {
    const restored: Generation =
      cached.message === undefined
        ? { text: cached.text }
        : deserializeStoredGeneration({ text: cached.text, message: cached.message as unknown as StoredMessage });
    if (cached.generationInfo !== undefined) restored.generationInfo = { ...cached.generationInfo };
    return restored;
  });
}
