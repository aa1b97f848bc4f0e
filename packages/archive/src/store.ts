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

/**
 * Options of {@link ArchiveStore.appendTurn} and {@link ArchiveStore.appendTurns}. An unknown
 * key, or an options argument that is not a plain object, is `INVALID_ARGUMENT`.
 */
export interface AppendOptions {
  /**
   * Gives up an append that has not started writing yet. A signal aborted already rejects
   * at once; one aborted while the call waits for the session's lock (another writer holds
   * it) or for a connection rejects promptly. Both reject with `ABORTED` (`cause`: the
   * signal's `reason`) and store nothing, and other writers are not disturbed. Once the
   * write has started the signal is no longer observed: the call completes and resolves
   * as usual, so an abort never leaves a turn half-written and a resolved append is
   * stored. Not an `AbortSignal`: `INVALID_ARGUMENT`.
   */
  signal?: AbortSignal;
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
 * Every method rejects with an `ArchiveError` carrying a stable `code`. Appends take an
 * optional {@link AppendOptions} last: its `signal` gives up an append still waiting for
 * the session's lock (`ABORTED`, nothing stored), never one that started writing.
 */
export interface ArchiveStore {
  /** Appends one turn; see {@link ArchiveStore.appendTurns}. */
  appendTurn(sessionId: string, turn: ArchiveTurnInput, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Appends in one atomic step: all turns are stored, or none. `options.signal` aborts the
   * call while it has not started writing (see {@link AppendOptions.signal}).
   */
  appendTurns(sessionId: string, turns: readonly ArchiveTurnInput[], options?: AppendOptions): Promise<AppendResult>;
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
