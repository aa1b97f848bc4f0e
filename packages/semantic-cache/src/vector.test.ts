import { describe, expect, it } from 'vitest';
import { SemanticCacheError } from './errors.js';
import { MAX_DIMENSIONS, bytesToFloat32, bytesToFloat32Batch, cosineSimilarity, float32ToBytes, normalizeEmbedding, toFloat32 } from './vector.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SemanticCacheError);
    return (error as SemanticCacheError).code;
  }
  return undefined;
}

describe('normalizeEmbedding', () => {
  it('returns a unit-length float32 copy pointing the same way', () => {
    const unit = normalizeEmbedding([3, 4]);
    expect(unit).toBeInstanceOf(Float32Array);
    expect(unit[0]).toBeCloseTo(0.6, 6);
    expect(unit[1]).toBeCloseTo(0.8, 6);
  });

  it('accepts Float32Array, Float64Array and number[] alike', () => {
    const expected = normalizeEmbedding([1, 2, 2]);
    expect(normalizeEmbedding(new Float32Array([1, 2, 2]))).toEqual(expected);
    expect(normalizeEmbedding(new Float64Array([1, 2, 2]))).toEqual(expected);
  });

  it('refuses NaN and infinite components with INVALID_EMBEDDING', () => {
    expect(codeOf(() => normalizeEmbedding([1, Number.NaN]))).toBe('INVALID_EMBEDDING');
    expect(codeOf(() => normalizeEmbedding(new Float32Array([Number.POSITIVE_INFINITY, 1])))).toBe('INVALID_EMBEDDING');
    expect(codeOf(() => normalizeEmbedding([1, '2' as unknown as number]))).toBe('INVALID_EMBEDDING');
  });

  it('refuses zero vectors, empty vectors and oversized vectors', () => {
    expect(codeOf(() => normalizeEmbedding([0, 0, 0]))).toBe('INVALID_EMBEDDING');
    expect(codeOf(() => normalizeEmbedding([]))).toBe('INVALID_EMBEDDING');
    expect(codeOf(() => normalizeEmbedding(new Float32Array(MAX_DIMENSIONS + 1).fill(1)))).toBe('INVALID_EMBEDDING');
    expect(codeOf(() => normalizeEmbedding('abc' as unknown as number[]))).toBe('INVALID_EMBEDDING');
  });

  it('refuses a norm that overflows float64', () => {
    expect(codeOf(() => normalizeEmbedding([1e200, 1e200]))).toBe('INVALID_EMBEDDING');
  });
});

describe('toFloat32', () => {
  it('refuses values that overflow float32', () => {
    expect(codeOf(() => toFloat32([1e39]))).toBe('INVALID_EMBEDDING');
  });
});

describe('float32 bytes', () => {
  it('writes raw little-endian float32, the bytes numpy tobytes() gives on x86', () => {
    const bytes = float32ToBytes(new Float32Array([1, -2.5]));
    expect([...bytes]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
  });

  it('reads back what it wrote, also from an unaligned view', () => {
    const vector = new Float32Array([0.1, 0.2, -7, 1e-30]);
    const bytes = float32ToBytes(vector);
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    expect(bytesToFloat32(padded.subarray(1))).toEqual(vector);
  });

  it('reports a length that is not a multiple of 4 as null', () => {
    expect(bytesToFloat32(new Uint8Array(7))).toBeNull();
  });
});

describe('cosineSimilarity', () => {
  it('is 1 for parallel, 0 for orthogonal and -1 for opposite vectors', () => {
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 0], [0, 3])).toBeCloseTo(0, 12);
    expect(cosineSimilarity([1, 1], [-1, -1])).toBeCloseTo(-1, 12);
  });

  it('refuses vectors of different lengths with DIMENSION_MISMATCH', () => {
    expect(codeOf(() => cosineSimilarity([1], [1, 2]))).toBe('DIMENSION_MISMATCH');
  });
});

describe('bytesToFloat32Batch', () => {
  it('decodes aligned and unaligned values alike, keeps nulls, flags partial vectors', () => {
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([3, 4, 5]);
    const shifted = new Uint8Array(13);
    shifted.set(float32ToBytes(b), 1);
    const out = bytesToFloat32Batch([float32ToBytes(a), null, shifted.subarray(1), new Uint8Array(5)]);
    expect(out).toEqual([a, null, b, undefined]);
  });
});
