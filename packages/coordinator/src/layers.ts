/**
 * The layer contracts a {@link CacheCoordinator} composes. They are the subsets of
 * `HybridConversationCache` (`@lix/session-window`), `SemanticCache` and
 * `UrlEmbeddingCache` (`@lix/semantic-cache`) that the coordinator calls, so the real
 * classes fit as they are and a user's own implementation fits too.
 */

/** Message metadata: a plain JSON object. */
export type MessageMetadata = { [key: string]: unknown };

/** A message as the coordinator hands it back; session windows may add fields. */
export interface ContextMessage {
  role: string;
  content: string;
  /** Unix seconds. */
  timestamp?: number;
  metadata?: MessageMetadata;
}

/** Session memory: the per-session rolling window (hot) over the archive (cold). */
export interface SessionWindowLayer<M extends ContextMessage = ContextMessage> {
  /** Stores a message; resolves once it is acknowledged. */
  addMessage(role: string, content: string, metadata?: MessageMetadata, embedding?: Float32Array): Promise<unknown>;
  /** The hot window, oldest first (re-hydrated from the archive when needed). */
  getContext(): Promise<M[]>;
  /** The window as `role: content` lines. */
  getFormattedContext(maxLines?: number): Promise<string>;
  /** Drops the hot window (the archive keeps the history). */
  clear(): Promise<unknown>;
  getStats(): Promise<object>;
  /** Releases what this layer instance owns, if anything. */
  close?(): Promise<void>;
}

/** The semantic response cache: responses keyed by (URL, query embedding) with a similarity threshold. */
export interface SemanticCacheLayer<R = unknown> {
  /** The cached response of the most similar query at or above the threshold, or `null`. */
  get(url: string, queryEmbedding: Float32Array): Promise<R | null>;
  set(url: string, queryEmbedding: Float32Array, response: R): Promise<unknown>;
  /** Deletes this session's entries. */
  clearSession(): Promise<unknown>;
  getStats(): Promise<object>;
  close?(): Promise<void>;
}

/** The URL → embedding cache (global: shared by every session). */
export interface UrlEmbeddingLayer {
  get(url: string): Promise<Float32Array | null>;
  set(url: string, embedding: Float32Array): Promise<unknown>;
  /** Stores many embeddings in as few round trips as possible. */
  batchSet(entries: Iterable<readonly [string, Float32Array]>): Promise<unknown>;
  getStats(): Promise<object>;
  close?(): Promise<void>;
}
