import { SemanticCacheError } from './errors.js';

/** An embedding as callers pass it. */
export type EmbeddingInput = Float32Array | Float64Array | readonly number[];

/** Largest accepted embedding length; bounds every allocation made from caller input. */
export const MAX_DIMENSIONS = 65_536;

/** True on little-endian hosts, where a `Float32Array` view reads the stored bytes directly. */
export const hostIsLittleEndian: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function checkShape(embedding: unknown): asserts embedding is EmbeddingInput {
  if (!(embedding instanceof Float32Array) && !(embedding instanceof Float64Array) && !Array.isArray(embedding)) {
    throw new SemanticCacheError('INVALID_EMBEDDING', 'An embedding must be a Float32Array, a Float64Array or an array of numbers.');
  }
  const length = (embedding as ArrayLike<number>).length;
  if (length === 0) throw new SemanticCacheError('INVALID_EMBEDDING', 'The embedding is empty.');
  if (length > MAX_DIMENSIONS) {
    throw new SemanticCacheError('INVALID_EMBEDDING', `The embedding has ${length} dimensions; at most ${MAX_DIMENSIONS} are supported.`);
  }
}

/**
 * Validates an embedding and returns its unit-length float32 copy. Normalising once at
 * write (and once per query) turns cosine similarity into a plain dot product in the scan.
 */
export function normalizeEmbedding(embedding: EmbeddingInput): Float32Array {
  checkShape(embedding);
  let sumOfSquares = 0;
  for (let i = 0; i < embedding.length; i++) {
    const value = embedding[i]!;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SemanticCacheError('INVALID_EMBEDDING', `Embedding component ${i} is ${String(value)}; every component must be a finite number.`);
    }
    sumOfSquares += value * value;
  }
  const norm = Math.sqrt(sumOfSquares);
  if (!(norm > 0) || !Number.isFinite(norm)) {
    throw new SemanticCacheError('INVALID_EMBEDDING', 'The embedding is a zero vector (or its norm overflows); cosine similarity is undefined for it.');
  }
  const unit = new Float32Array(embedding.length);
  for (let i = 0; i < embedding.length; i++) unit[i] = embedding[i]! / norm;
  return unit;
}

/** Validates an embedding (finite components, sane length) and returns it as float32, unnormalised. */
export function toFloat32(embedding: EmbeddingInput): Float32Array {
  checkShape(embedding);
  const out = new Float32Array(embedding.length);
  for (let i = 0; i < embedding.length; i++) {
    const value = embedding[i]!;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SemanticCacheError('INVALID_EMBEDDING', `Embedding component ${i} is ${String(value)}; every component must be a finite number.`);
    }
    out[i] = value;
    if (!Number.isFinite(out[i]!)) {
      throw new SemanticCacheError('INVALID_EMBEDDING', `Embedding component ${i} (${value}) overflows float32.`);
    }
  }
  return out;
}

/** The raw little-endian float32 bytes of `vector` (what Redis stores; numpy's `tobytes()` on x86). */
export function float32ToBytes(vector: Float32Array): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
  const bytes = new Uint8Array(vector.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < vector.length; i++) view.setFloat32(i * 4, vector[i]!, true);
  return bytes;
}

/** Reads raw little-endian float32 bytes into a new `Float32Array`; `null` when the length is not a multiple of 4. */
export function bytesToFloat32(bytes: Uint8Array): Float32Array | null {
  if (bytes.byteLength % 4 !== 0) return null;
  const count = bytes.byteLength / 4;
  if (hostIsLittleEndian) {
    // Drivers hand over bytes the caller owns, so an aligned reply is viewed in place (no
    // copy per vector in a batch); an unaligned one is copied once to align it.
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    return new Float32Array(bytes.slice().buffer, 0, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * {@link bytesToFloat32} for many values at once: unaligned values are copied into ONE
 * shared buffer (disjoint ranges), because an allocation per vector cost more than the
 * MGET itself. Entries that are not whole float32 vectors come back as `undefined`.
 */
export function bytesToFloat32Batch(values: readonly (Uint8Array | null)[]): Array<Float32Array | null | undefined> {
  let unalignedBytes = 0;
  for (const bytes of values) {
    if (bytes !== null && bytes.byteLength % 4 === 0 && (!hostIsLittleEndian || bytes.byteOffset % 4 !== 0)) unalignedBytes += bytes.byteLength;
  }
  // Not zero-filled: every byte is overwritten below (the sizes add up exactly), and
  // zeroing ~150 KB per call was a measurable share of a 100-URL batch.
  const pool = unalignedBytes > 0 && hostIsLittleEndian ? new Uint8Array(Buffer.allocUnsafeSlow(unalignedBytes).buffer, 0, unalignedBytes) : undefined;
  let at = 0;
  return values.map((bytes) => {
    if (bytes === null) return null;
    if (bytes.byteLength % 4 !== 0) return undefined;
    if (!hostIsLittleEndian) return bytesToFloat32(bytes);
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    pool!.set(bytes, at);
    const view = new Float32Array(pool!.buffer, at, bytes.byteLength / 4);
    at += bytes.byteLength;
    return view;
  });
}

/** Cosine similarity of two vectors of equal length (for tests and tools; the scan uses dot products of unit vectors). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (!isNumberList(a) || !isNumberList(b)) {
    throw new SemanticCacheError('INVALID_EMBEDDING', 'cosineSimilarity takes two arrays (or typed arrays) of numbers.');
  }
  if (a.length !== b.length) throw new SemanticCacheError('DIMENSION_MISMATCH', `Vectors have ${a.length} and ${b.length} dimensions.`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  if (normA === 0 || normB === 0) throw new SemanticCacheError('INVALID_EMBEDDING', 'Cosine similarity is undefined for a zero vector.');
  return dot / Math.sqrt(normA * normB);
}

function isNumberList(value: unknown): value is ArrayLike<number> {
  if (value instanceof Float32Array || value instanceof Float64Array) return true;
  return Array.isArray(value) && value.every((x) => typeof x === 'number');
}
