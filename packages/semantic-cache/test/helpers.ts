import type { Clock } from '@lix/redis-pool';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random vector with components in [-1, 1); random 384-d vectors are nearly orthogonal. */
export function randomVector(random: () => number, dimensions = 384): Float32Array {
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = random() * 2 - 1;
  return vector;
}

/** A unit vector whose cosine similarity with unit vector `base` is exactly `similarity` (up to float32 rounding). */
export function vectorAtSimilarity(base: Float32Array, similarity: number, random: () => number): Float32Array {
  const unitBase = normalize(base);
  const other = randomVector(random, base.length);
  let dot = 0;
  for (let i = 0; i < other.length; i++) dot += other[i]! * unitBase[i]!;
  for (let i = 0; i < other.length; i++) other[i] = other[i]! - dot * unitBase[i]!;
  const orthogonal = normalize(other);
  const sine = Math.sqrt(1 - similarity * similarity);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = similarity * unitBase[i]! + sine * orthogonal[i]!;
  return out;
}

export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  return vector.map((value) => value / norm);
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  time: number;
  constructor(time = 1_700_000_000_000) {
    this.time = time;
  }
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
