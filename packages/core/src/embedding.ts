import { describeValue } from './describe-value.js';

/** Result of {@link readEmbedding}. */
export type EmbeddingReading = { ok: true; vector: Float32Array } | { ok: false; message: string };

/**
 * Reads an embedding given as a `Float32Array`, a `Float64Array` or an array of numbers into
 * a `Float32Array` (the given `Float32Array` itself, not copied), checking that it is
 * non-empty, at most `maxLength` long and finite once narrowed to float32 (a float64
 * beyond ±3.4e38 becomes Infinity). Callers throw their own typed error with code
 * `INVALID_EMBEDDING` on `ok: false`.
 */
export function readEmbedding(value: unknown, maxLength: number): EmbeddingReading {
  let vector: Float32Array;
  if (value instanceof Float32Array) vector = value;
  else if (value instanceof Float64Array) vector = Float32Array.from(value);
  else if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (typeof value[index] !== 'number') {
        return { ok: false, message: `an embedding given as an array must hold only numbers; index ${index} is ${describeValue(value[index])}` };
      }
    }
    vector = Float32Array.from(value as number[]);
  } else {
    return { ok: false, message: `an embedding must be a Float32Array, a Float64Array or number[], got ${describeValue(value)}` };
  }
  if (vector.length === 0) return { ok: false, message: 'an embedding must not be empty' };
  if (vector.length > maxLength) return { ok: false, message: `an embedding has ${vector.length} dimensions; the limit is ${maxLength}` };
  for (let index = 0; index < vector.length; index++) {
    if (!Number.isFinite(vector[index])) {
      return { ok: false, message: `an embedding holds a non-finite value at index ${index} (or a number too large for float32)` };
    }
  }
  return { ok: true, vector };
}
