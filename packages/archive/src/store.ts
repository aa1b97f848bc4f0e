import type { ScoredTurn } from './text-search.js';
import type { ArchivedTurn, ArchiveTurnInput } from './turn-records.js';

/** Result of an append: see {@link ArchiveStore.appendTurns}. */
export interface AppendResult {
  appended: number;
  skipped: number;
  lastSeq: number;
  /** The seq of each input turn, in input order (assigned, explicit, or the one already stored). */
  seqs: number[];
}

/** What `getMetadata` and `listSessions` report, read without decoding turns. */
export interface SessionMetadata {
  sessionId: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds. */
  updatedAt: number;
  turnCount: number;
  /** Bytes the session occupies in the store (file size, or the rows' stored size). */
  sizeBytes: number;
  lastSeq: number;
  /** How the store holds the session: `'lix'` and `'legacy-huff'` files, `'postgres'` rows, or a custom store's name. */
  format: string;
}

/**
 * The cold tier's contract: the log of record that `@lix/session-window` and
 * `@lix/coordinator` write through. `ConversationArchive` (files) and the PostgreSQL
 * store implement it; a custom store passes `@lix/archive/conformance` to be a drop-in.
 *
 * Seq rules, applied atomically per session whatever the number of writers, processes or
 * hosts: a turn without `seq` gets `lastSeq + 1`; a turn whose `seq` is ≤ `lastSeq` is
 * skipped (already stored); a larger `seq` is stored and becomes `lastSeq`. An append
 * resolves only once the store holds the turns (the acknowledgement).
 *
 * Every method rejects with an `ArchiveError` carrying a stable `code`.
 */
export interface ArchiveStore {
  appendTurn(sessionId: string, turn: ArchiveTurnInput): Promise<AppendResult>;
  /** Appends in one atomic step: all turns are stored, or none. */
  appendTurns(sessionId: string, turns: readonly ArchiveTurnInput[]): Promise<AppendResult>;
  /** Every turn, oldest first; `[]` for an unknown session. */
  loadAll(sessionId: string): Promise<ArchivedTurn[]>;
  /** The last `count` turns, oldest first; reads O(count), not the whole history. */
  loadRecent(sessionId: string, count: number): Promise<ArchivedTurn[]>;
  /** Turns with `seq > afterSeq`, oldest first, at most `limit` of them (default: all). */
  loadAfter(sessionId: string, afterSeq: number, limit?: number): Promise<ArchivedTurn[]>;
  /** `null` for an unknown session. Never decodes turns. */
  getMetadata(sessionId: string): Promise<SessionMetadata | null>;
  sessionExists(sessionId: string): Promise<boolean>;
  /** Resolves `true` when something was deleted. */
  deleteSession(sessionId: string): Promise<boolean>;
  /** Streams every session's metadata without holding them all in memory. */
  listSessions(): AsyncIterable<SessionMetadata>;
  /** Deletes sessions not updated within the store's TTL; resolves with how many. */
  cleanupExpired(): Promise<number>;
  /** Okapi BM25 over the session's turns' content. */
  searchByText(sessionId: string, query: string, topK?: number): Promise<ScoredTurn[]>;
  /** Cosine similarity with the stored embeddings. */
  searchByEmbedding(sessionId: string, vector: Float32Array | readonly number[], topK?: number): Promise<ScoredTurn[]>;
  /** Releases what the store holds; later calls reject with `CLOSED`. Idempotent. */
  close(): Promise<void>;
  /** `close()`, for `await using store = …`: the store is closed when the block ends. */
  [Symbol.asyncDispose](): Promise<void>;
}
