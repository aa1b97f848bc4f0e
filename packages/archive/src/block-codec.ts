import { codecFromId, codecIds, compress, decompress, type ArchiveCodec } from './codecs.js';
import { ArchiveError } from './errors.js';
import { type FrameKind, TURNS_HEAD_SIZE, frame, parseTurnsHead, turnsHead } from './frame.js';
import { seal, unseal } from './sealing.js';
import { decodeTurns, encodeTurns, type ArchivedTurn } from './turn-records.js';

/** How turns are packed into TURNS and BLOCK frames. */
export interface BlockCodec {
  codec: ArchiveCodec;
  key: Uint8Array | undefined;
}

/**
 * A framed TURNS or BLOCK payload holding `turns` (seq order), compressed and sealed.
 * Below `storeRawBelow` raw bytes the body is stored uncompressed (codec `none`).
 */
export function turnsFrame(
  kind: FrameKind.Turns | FrameKind.Block,
  turns: readonly ArchivedTurn[],
  options: BlockCodec,
  encrypted: boolean,
  storeRawBelow = 0,
): Buffer {
  const raw = encodeTurns(turns);
  const codec = raw.byteLength < storeRawBelow ? 'none' : options.codec;
  const head = turnsHead({
    kind,
    codec: codecIds[codec],
    count: turns.length,
    firstSeq: turns[0]!.seq,
    lastSeq: turns[turns.length - 1]!.seq,
    rawLength: raw.byteLength,
  });
  const packed = compress(codec, raw);
  if (encrypted && !options.key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
  const body = encrypted ? seal(options.key!, packed, head) : packed;
  return frame(Buffer.concat([head, body]));
}

/** The raw length a TURNS/BLOCK payload declares (its msgpack size before compression). */
export function rawLengthOf(payload: Buffer): number {
  return parseTurnsHead(payload).rawLength;
}

/** Decodes the turns of a TURNS or BLOCK payload. */
export function decodeTurnsPayload(payload: Buffer, encrypted: boolean, key: Uint8Array | undefined): ArchivedTurn[] {
  const head = parseTurnsHead(payload);
  const codec = codecFromId(head.codec);
  let body: Uint8Array = payload.subarray(TURNS_HEAD_SIZE);
  if (encrypted) {
    if (!key) throw new ArchiveError('DECRYPT_FAILED', 'this session is encrypted; open the archive with its encryptionKey');
    body = unseal(key, body, payload.subarray(0, TURNS_HEAD_SIZE));
  }
  return decodeTurns(decompress(codec, body, head.rawLength), head.count);
}
