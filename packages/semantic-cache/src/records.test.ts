import { describe, expect, it } from 'vitest';
import { seededRandom, randomVector, vectorAtSimilarity } from '../test/helpers.js';
import { SemanticCacheError } from './errors.js';
import { RECORD_META_BYTES, VECTOR_HEADER_BYTES, countLive, formatExpiry, readHeader, recordId, recordSize, scanBestMatch, vectorHeader } from './records.js';
import { float32ToBytes, normalizeEmbedding } from './vector.js';

const encoder = new TextEncoder();

function pack(dimensions: number, records: Array<{ expiresAt: number; id: string; vector: Float32Array }>): Uint8Array {
  const size = recordSize(dimensions);
  const out = new Uint8Array(VECTOR_HEADER_BYTES + records.length * size);
  out.set(encoder.encode(vectorHeader(dimensions)), 0);
  records.forEach((record, index) => {
    const offset = VECTOR_HEADER_BYTES + index * size;
    out.set(encoder.encode(formatExpiry(record.expiresAt) + record.id), offset);
    out.set(float32ToBytes(normalizeEmbedding(record.vector)), offset + RECORD_META_BYTES);
  });
  return out;
}

describe('vector list format', () => {
  it('has an 8-byte header and 24 + 4·dim byte records, keeping vectors 4-byte aligned', () => {
    expect(vectorHeader(384)).toBe('SC100384');
    expect(recordSize(384)).toBe(1560);
    expect((VECTOR_HEADER_BYTES + RECORD_META_BYTES) % 4).toBe(0);
    expect(formatExpiry(1_700_000_000_123)).toBe('0001700000000123');
  });

  it('reads dimensions and record count from the header', () => {
    const random = seededRandom(1);
    const bytes = pack(
      16,
      [1, 2, 3].map((i) => ({ expiresAt: 10, id: `0000000${i}`, vector: randomVector(random, 16) })),
    );
    expect(readHeader(bytes)).toEqual({ dimensions: 16, count: 3 });
    expect(recordId(bytes, 16, 2)).toBe('00000003');
  });

  it('refuses foreign or truncated data with CORRUPT_ENTRY', () => {
    const random = seededRandom(2);
    const good = pack(8, [{ expiresAt: 10, id: '00000001', vector: randomVector(random, 8) }]);
    for (const bad of [
      encoder.encode('hello'),
      encoder.encode('XX100008'),
      good.subarray(0, good.length - 1),
      encoder.encode('SC1abcde'),
      encoder.encode('SC100000'),
    ]) {
      expect(() => readHeader(bad)).toThrow(SemanticCacheError);
      try {
        readHeader(bad);
      } catch (error) {
        expect((error as SemanticCacheError).code).toBe('CORRUPT_ENTRY');
      }
    }
  });
});

describe('scanBestMatch', () => {
  const random = seededRandom(42);
  const query = randomVector(random);
  const unitQuery = normalizeEmbedding(query);
  const records = [0.3, 0.95, 0.7, 0.91].map((similarity, i) => ({
    expiresAt: 1000,
    id: `0000000${i}`,
    vector: vectorAtSimilarity(query, similarity, random),
  }));

  it('finds the most similar live record and its cosine similarity', () => {
    const bytes = pack(384, records);
    const result = scanBestMatch(bytes, 384, 4, unitQuery, 500);
    expect(result.index).toBe(1);
    expect(result.similarity).toBeCloseTo(0.95, 5);
    expect(result.live).toBe(4);
  });

  it('skips records whose expiry is at or before now', () => {
    const bytes = pack(
      384,
      records.map((record, i) => (i === 1 ? { ...record, expiresAt: 500 } : record)),
    );
    const result = scanBestMatch(bytes, 384, 4, unitQuery, 500);
    expect(result.index).toBe(3);
    expect(result.similarity).toBeCloseTo(0.91, 5);
    expect(result.live).toBe(3);
    expect(countLive(bytes, 500)).toBe(3);
    expect(countLive(bytes, 1000)).toBe(0);
  });

  it('reports no match when every record expired', () => {
    const result = scanBestMatch(pack(384, records), 384, 4, unitQuery, 1000);
    expect(result).toEqual({ index: -1, similarity: Number.NEGATIVE_INFINITY, live: 0 });
  });

  it('gives the same answer from a buffer at an unaligned offset', () => {
    const bytes = pack(384, records);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const result = scanBestMatch(shifted.subarray(3), 384, 4, unitQuery, 0);
    expect(result.index).toBe(1);
    expect(result.similarity).toBeCloseTo(0.95, 5);
  });

  it('clamps an identical vector to similarity 1 at most', () => {
    const bytes = pack(384, [{ expiresAt: 10, id: '00000001', vector: query }]);
    const result = scanBestMatch(bytes, 384, 1, unitQuery, 0);
    expect(result.similarity).toBeLessThanOrEqual(1);
    expect(result.similarity).toBeGreaterThan(0.9999);
  });
});

describe('scanBestMatch with odd dimensions', () => {
  it('includes the components past the last group of four', () => {
    const random = seededRandom(9);
    const query = randomVector(random, 7);
    const records = [0.5, 0.99].map((similarity, i) => ({ expiresAt: 10, id: `0000000${i}`, vector: vectorAtSimilarity(query, similarity, random) }));
    const bytes = pack(7, records);
    const result = scanBestMatch(bytes, 7, 2, normalizeEmbedding(query), 0);
    expect(result.index).toBe(1);
    expect(result.similarity).toBeCloseTo(0.99, 5);
    const shifted = new Uint8Array(bytes.length + 2);
    shifted.set(bytes, 2);
    expect(scanBestMatch(shifted.subarray(2), 7, 2, normalizeEmbedding(query), 0).similarity).toBeCloseTo(0.99, 5);
  });
});
