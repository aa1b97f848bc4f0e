/** A JSON value, as metadata may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A plain JSON object: the shape of message metadata. */
export type JsonObject = { [key: string]: JsonValue };

/** One message given to `HybridConversationCache.addMessages`; the same checks as `addMessage`'s arguments apply. */
export interface NewMessage {
  role: string;
  content: string;
  metadata?: JsonObject;
  embedding?: Float32Array | number[];
}

/**
 * One message of a conversation. `seq` is its id: unique and increasing within the
 * session (1, 2, 3, …), assigned by the archive when the message is stored.
 */
export interface ConversationMessage {
  /** Position in the session, from 1; unique and ordered per session. */
  seq: number;
  role: string;
  content: string;
  /** Unix time in seconds (fractional, millisecond precision) when the message was added. */
  timestamp: number;
  metadata: JsonObject;
  /**
   * The embedding given to `addMessage`. Only messages read from the archive carry it
   * (`getFull`, `smartContext().relevant`); the hot window in Redis does not hold
   * embeddings, so `getContext` messages have none.
   */
  embedding?: Float32Array;
}

/** A message found by {@link HybridConversationCache.smartContext}, with its similarity score. */
export interface RelevantMessage extends ConversationMessage {
  /** Cosine similarity (embedding search) or the archive's text score; higher is closer. */
  score: number;
}

/** The options-object form of {@link HybridConversationCache.smartContext}'s arguments. */
export interface SmartContextRequest {
  /** Text searched in the archive when no `embedding` is given. */
  query: string;
  /** Finds the older messages by cosine similarity instead of text. */
  embedding?: Float32Array | number[] | null;
  /** How many of the last messages (default 10). */
  recentK?: number;
  /** How many older relevant messages at most (default 5). */
  diskK?: number;
}

/** What {@link HybridConversationCache.smartContext} returns. */
export interface SmartContext {
  /** The last `recentK` messages, oldest first. */
  recent: ConversationMessage[];
  /** Up to `diskK` older messages most similar to the query, best first, none of them in `recent`. */
  relevant: RelevantMessage[];
}

/** This process's counters for one session: see {@link HybridConversationCache.counters}. */
export interface WindowCounters {
  /** Times this process rebuilt the session's window from the archive (a missing, stale or incomplete window). */
  rebuilds: number;
  /** Archive reads this process made to check or repair the session's window (not counting `getFull` or searches). */
  archiveChecks: number;
  /** Archive writes (group commits) this process made for the session. */
  archiveWrites: number;
  /** Messages those writes carried: `groupedMessages / archiveWrites` is the mean group size. */
  groupedMessages: number;
}

/** What {@link HybridConversationCache.getStats} returns. */
export interface SessionStats extends WindowCounters {
  sessionId: string;
  /** Messages in the Redis hot window right now (0 when evicted or Redis is unreachable). */
  hotMessages: number;
  /** Bytes of the hot window's records (their serialized size, not Redis overhead). */
  hotBytes: number;
  /** Messages stored in the archive (the whole history). */
  archivedMessages: number;
  /** Size of the session's archive on disk, in bytes. */
  archiveBytes: number;
  /** Seq of the newest message (0 for an empty session). */
  lastSeq: number;
  hotWindowSize: number;
  sessionMaxTokens: number | null;
  /** Unix ms of the last read or write seen by Redis, or `null` when not in Redis. */
  lastActiveMs: number | null;
  /** False when Redis could not be reached for these stats. */
  redisAvailable: boolean;
}
