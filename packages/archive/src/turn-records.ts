import { pack, unpack } from 'msgpackr';
import { ArchiveError } from './errors.js';
import { checkMetadata, isPlainObject } from './validate.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A turn as callers hand it to the archive. */
export interface ArchiveTurnInput {
  role: string;
  content: string;
  /** Unix seconds (float), as the original stored them; defaults to now. */
  timestamp?: number;
  metadata?: Record<string, unknown>;
  embedding?: Float32Array | number[];
  /** Explicit per-session sequence number; see `appendTurns`. */
  seq?: number;
}

/** A stored turn. `seq` is unique and increasing within its session. */
export interface ArchivedTurn {
  seq: number;
  role: string;
  content: string;
  timestamp: number;
  metadata: Record<string, unknown>;
  embedding?: Float32Array;
}

interface TurnRecord {
  s: number;
  r: string;
  c: string;
  t: number;
  m: Record<string, unknown>;
  e?: Uint8Array;
}

/** Checks a caller's turn and turns it into a stored turn with the given seq. */
export function normalizeTurn(input: unknown, seq: number, nowSeconds: number): ArchivedTurn {
  if (!isPlainObject(input)) throw new ArchiveError('INVALID_TURN', 'a turn must be a plain object');
  const { role, content, timestamp, metadata, embedding, seq: wanted } = input as Partial<ArchiveTurnInput>;
  if (wanted !== undefined && !(typeof wanted === 'number' && Number.isSafeInteger(wanted) && wanted > 0)) {
    throw new ArchiveError('INVALID_TURN', 'turn.seq must be a positive safe integer');
  }
  if (typeof role !== 'string' || role.length === 0) throw new ArchiveError('INVALID_TURN', 'turn.role must be a non-empty string');
  if (typeof content !== 'string') throw new ArchiveError('INVALID_TURN', 'turn.content must be a string');
  if (LONE_SURROGATE.test(role) || LONE_SURROGATE.test(content)) {
    // UTF-8 storage would silently turn a lone surrogate into U+FFFD.
    throw new ArchiveError('INVALID_TURN', 'turn.role and turn.content must be well-formed Unicode (no lone surrogate)');
  }
  if (timestamp !== undefined && (typeof timestamp !== 'number' || !Number.isFinite(timestamp))) {
    throw new ArchiveError('INVALID_TURN', 'turn.timestamp must be a finite number of unix seconds');
  }
  if (metadata !== undefined) checkMetadata(metadata);
  const turn: ArchivedTurn = { seq, role, content, timestamp: timestamp ?? nowSeconds, metadata: metadata ?? {} };
  if (embedding !== undefined) turn.embedding = toFloat32(embedding);
  return turn;
}

function toFloat32(embedding: unknown): Float32Array {
  if (embedding instanceof Float32Array) return embedding;
  if (Array.isArray(embedding) && embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) return Float32Array.from(embedding);
  throw new ArchiveError('INVALID_TURN', 'turn.embedding must be a Float32Array or an array of finite numbers');
}

export function encodeTurns(turns: readonly ArchivedTurn[]): Uint8Array {
  const records: TurnRecord[] = turns.map((turn) => {
    const record: TurnRecord = { s: turn.seq, r: turn.role, c: turn.content, t: turn.timestamp, m: turn.metadata };
    // Embeddings go to disk as raw float32 bytes, a quarter of their JSON text.
    if (turn.embedding) record.e = new Uint8Array(turn.embedding.buffer, turn.embedding.byteOffset, turn.embedding.byteLength);
    return record;
  });
  return pack(records);
}

export function decodeTurns(bytes: Uint8Array, expectedCount: number): ArchivedTurn[] {
  let records: unknown;
  try {
    records = unpack(bytes);
  } catch (error) {
    throw new ArchiveError('CORRUPT_FILE', 'a block of turns does not decode', { cause: error });
  }
  if (!Array.isArray(records) || records.length !== expectedCount) {
    throw new ArchiveError('CORRUPT_FILE', 'a block of turns does not hold the count its head declares');
  }
  return records.map((raw: unknown) => {
    const record = raw as TurnRecord;
    if (!record || typeof record.s !== 'number' || typeof record.r !== 'string' || typeof record.c !== 'string') {
      throw new ArchiveError('CORRUPT_FILE', 'a stored turn is malformed');
    }
    const turn: ArchivedTurn = { seq: record.s, role: record.r, content: record.c, timestamp: record.t, metadata: record.m ?? {} };
    if (record.e instanceof Uint8Array) {
      // Copy: the decoded bytes may sit at an offset that is not 4-byte aligned.
      const copy = new Uint8Array(record.e);
      turn.embedding = new Float32Array(copy.buffer, 0, copy.byteLength >>> 2);
    }
    return turn;
  });
}
