import { decode as huffmanDecode } from '@lix/huffman';
import { ArchiveError } from './errors.js';
import type { ArchivedTurn } from './turn-records.js';

/** Header fields of a legacy CAv1 `.huff` file (Python `lix_open_cache` 0.1.0). */
export interface LegacyHeader {
  createdAt: number;
  updatedAt: number;
  turnCount: number;
}

const LEGACY_HEADER_SIZE = 24;

export function parseLegacyHeader(bytes: Uint8Array): LegacyHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.byteLength < LEGACY_HEADER_SIZE || buf.toString('latin1', 0, 4) !== 'CAv1') {
    throw new ArchiveError('LEGACY_FORMAT_ERROR', 'legacy archive does not start with CAv1');
  }
  return { createdAt: buf.readDoubleLE(4), updatedAt: buf.readDoubleLE(12), turnCount: buf.readUInt32LE(20) };
}

/** Decodes a whole legacy file; its turns get seq 1..n in file order. */
export function readLegacyTurns(bytes: Uint8Array): { header: LegacyHeader; turns: ArchivedTurn[] } {
  const header = parseLegacyHeader(bytes);
  let parsed: unknown;
  try {
    // JSON text is at most a few times the compressed size; the cap stops a forged length.
    const json = huffmanDecode(bytes.subarray(LEGACY_HEADER_SIZE), { maxOutputLength: Math.max(1024, bytes.byteLength * 64) });
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (error) {
    throw new ArchiveError('LEGACY_FORMAT_ERROR', `legacy archive body does not decode: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new ArchiveError('LEGACY_FORMAT_ERROR', 'legacy archive body is not a JSON array');
  const turns = parsed.map((raw: unknown, index): ArchivedTurn => {
    const item = raw as Record<string, unknown>;
    if (!item || typeof item !== 'object' || typeof item.role !== 'string' || typeof item.content !== 'string') {
      throw new ArchiveError('LEGACY_FORMAT_ERROR', `legacy turn ${index} lacks role or content`);
    }
    const turn: ArchivedTurn = {
      seq: index + 1,
      role: item.role,
      content: item.content,
      timestamp: typeof item.timestamp === 'number' ? item.timestamp : header.updatedAt,
      metadata: item.metadata && typeof item.metadata === 'object' ? (item.metadata as Record<string, unknown>) : {},
    };
    if (Array.isArray(item.embedding)) turn.embedding = Float32Array.from(item.embedding as number[]);
    return turn;
  });
  return { header, turns };
}
