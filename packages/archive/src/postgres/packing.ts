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

export function pack(codec: ArchiveCodec, raw: Uint8Array): Buffer {
  let id = codecIds.none;
  let body = raw;
  if (codec !== 'none' && raw.byteLength >= COMPRESS_FROM) {
    const packed = compress(codec, raw);
    if (packed.byteLength < raw.byteLength) {
      id = codecIds[codec];
      body = packed;
    }
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

export function unpackBlock(data: Uint8Array, count: number): ArchivedTurn[] {
  return decodeTurns(unpack(data), count);
}
