import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { decode as huffmanDecode, encode as huffmanEncode } from '@lix/huffman';
import { ArchiveError } from './errors.js';

/** Compression applied to a block of turns; recorded per frame so files can mix them. */
export type ArchiveCodec = 'none' | 'huffman' | 'deflate' | 'brotli';

export const codecIds: Record<ArchiveCodec, number> = { none: 0, huffman: 1, deflate: 2, brotli: 3 };
const codecById: ArchiveCodec[] = ['none', 'huffman', 'deflate', 'brotli'];

export function codecFromId(id: number): ArchiveCodec {
  const codec = codecById[id];
  if (!codec) throw new ArchiveError('CORRUPT_FILE', `unknown codec id ${id}`);
  return codec;
}

export function compress(codec: ArchiveCodec, data: Uint8Array): Uint8Array {
  switch (codec) {
    case 'none':
      return data;
    case 'huffman':
      return huffmanEncode(data);
    case 'deflate':
      return deflateRawSync(data, { level: 6 });
    case 'brotli':
      // Quality 5: most of quality 11's ratio on text at a small fraction of its cost, so
      // compaction stays cheap. The window just covers the data (blocks are at most a few
      // hundred KiB): a 4 MiB window costs its allocation on every call and gains nothing.
      return brotliCompressSync(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 5,
          [constants.BROTLI_PARAM_LGWIN]: windowBits(data.byteLength),
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.byteLength,
        },
      });
  }
}

/** The smallest brotli window (10–24 bits) that holds `length` bytes. */
function windowBits(length: number): number {
  return Math.min(24, Math.max(10, Math.ceil(Math.log2(length + 16))));
}

/** Decompresses exactly `rawLength` bytes; a stream that wants more is corrupt, never a big allocation. */
export function decompress(codec: ArchiveCodec, data: Uint8Array, rawLength: number): Uint8Array {
  try {
    let out: Uint8Array;
    switch (codec) {
      case 'none':
        out = data;
        break;
      case 'huffman':
        out = huffmanDecode(data, { maxOutputLength: rawLength });
        break;
      case 'deflate':
        out = inflateRawSync(data, { maxOutputLength: Math.max(1, rawLength) });
        break;
      case 'brotli':
        out = brotliDecompressSync(data, { maxOutputLength: Math.max(1, rawLength) });
        break;
    }
    if (out.byteLength !== rawLength) throw new Error(`expected ${rawLength} bytes, got ${out.byteLength}`);
    return out;
  } catch (error) {
    throw new ArchiveError('CORRUPT_FILE', `cannot decompress a ${codec} block: ${(error as Error).message}`, { cause: error });
  }
}
