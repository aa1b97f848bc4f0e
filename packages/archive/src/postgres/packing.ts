import { promisify } from 'node:util';
import { brotliCompress, constants } from 'node:zlib';
import { codecFromId, codecIds, compress, decompress, type ArchiveCodec } from '../codecs.js';
import { ArchiveError } from '../errors.js';
import { decodeTurns, encodeTurns, type ArchivedTurn } from '../turn-records.js';

/**
 * A stored value (one tail turn or one block): `[codec u8][raw length u32 LE][body]`. The
 * raw length bounds decompression, so a damaged row is a typed error, never a large
 * allocation; it also lets compaction size a block without decompressing it.
 */
const HEAD = 5;

/** Below this a compressed body rarely wins back its own framing. */
const COMPRESS_FROM = 96;

const brotliAsync = promisify(brotliCompress);

export function pack(codec: ArchiveCodec, raw: Uint8Array): Buffer {
  return frame(codec, raw, codec !== 'none' && raw.byteLength >= COMPRESS_FROM ? compress(codec, raw) : raw);
}

/**
 * Brotli at quality 10 on libuv's thread pool: about 12% smaller than the default
 * quality 5 on this data, at ~15× the CPU. For blocks made when a session went quiet,
 * where nobody waits and it happens once per pause, not once per `compactAfterTurns`.
 */
export async function packThorough(codec: ArchiveCodec, raw: Uint8Array): Promise<Buffer> {
  if (codec !== 'brotli' || raw.byteLength < COMPRESS_FROM) return pack(codec, raw);
  const body = await brotliAsync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 10,
      [constants.BROTLI_PARAM_LGWIN]: 18,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.byteLength,
    },
  });
  return frame(codec, raw, body);
}

function frame(codec: ArchiveCodec, raw: Uint8Array, packed: Uint8Array): Buffer {
  let id = codecIds.none;
  let body = raw;
  if (packed !== raw && packed.byteLength < raw.byteLength) {
    id = codecIds[codec];
    body = packed;
  }
  const out = Buffer.allocUnsafe(HEAD + body.byteLength);
  out[0] = id;
  out.writeUInt32LE(raw.byteLength, 1);
  out.set(body, HEAD);
  return out;
}

/** Raw (decompressed) length recorded in a packed value. */
export function rawLengthOf(data: Uint8Array): number {
  if (data.byteLength < HEAD) throw new ArchiveError('CORRUPT_FILE', 'a stored row is shorter than its header');
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32LE(1);
}

export function unpack(data: Uint8Array): Uint8Array {
  const rawLength = rawLengthOf(data);
  return decompress(codecFromId(data[0]!), data.subarray(HEAD), rawLength);
}

/** One tail turn; its seq lives in the row's key, so the value holds 0 there. */
export function packTurn(codec: ArchiveCodec, turn: ArchivedTurn): Buffer {
  return pack(codec, encodeTurns([{ ...turn, seq: 0 }]));
}

export function unpackTurn(data: Uint8Array, seq: number): ArchivedTurn {
  const turn = decodeTurns(unpack(data), 1)[0]!;
  turn.seq = seq;
  return turn;
}

export function packBlock(codec: ArchiveCodec, turns: ArchivedTurn[]): Buffer {
  return pack(codec, encodeTurns(turns));
}

export function packBlockThorough(codec: ArchiveCodec, turns: ArchivedTurn[]): Promise<Buffer> {
  return packThorough(codec, encodeTurns(turns));
}

export function unpackBlock(data: Uint8Array, count: number): ArchivedTurn[] {
  return decodeTurns(unpack(data), count);
}
