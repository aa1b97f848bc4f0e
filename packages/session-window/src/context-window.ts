import { HybridConversationCache, type HybridConversationCacheOptions } from './hybrid-cache.js';
import type { AddMessageOptions } from './append-abort.js';
import type { ConversationMessage, JsonObject, NewMessage, SessionStats, SmartContext } from './types.js';

/** What {@link SessionContextWindow.getStats} returns: the cache's stats plus its settings. */
export interface ContextWindowStats extends SessionStats {
  sessionTtlMs: number;
}

/**
 * The original's `SessionContextWindow`: the same session memory under the names the
 * Python package used (`getFullHistory`), wrapping a {@link HybridConversationCache}.
 */
export class SessionContextWindow {
  /** The session this window serves. */
  readonly sessionId: string;
  /** The cache doing the work, for callers that want its full API. */
  readonly cache: HybridConversationCache;

  constructor(options: HybridConversationCacheOptions) {
    this.cache = new HybridConversationCache(options);
    this.sessionId = this.cache.sessionId;
  }

  /** Adds a message; resolves with its seq once the archive holds it. See {@link HybridConversationCache.addMessage}. */
  addMessage(role: string, content: string, metadata?: JsonObject, embedding?: Float32Array | number[]): Promise<number> {
    return this.cache.addMessage(role, content, metadata, embedding);
  }

  /** Adds several messages with one archive write; resolves with their seqs. See {@link HybridConversationCache.addMessages}. */
  addMessages(messages: readonly NewMessage[], options?: AddMessageOptions): Promise<number[]> {
    return this.cache.addMessages(messages, options);
  }

  /** The hot window, oldest first, within the token budget. */
  getContext(): Promise<ConversationMessage[]> {
    return this.cache.getContext();
  }

  /** The whole history, oldest first, each message once. */
  getFullHistory(): Promise<ConversationMessage[]> {
    return this.cache.getFull();
  }

  /** Recent messages plus relevant older ones. See {@link HybridConversationCache.smartContext}. */
  smartContext(query: string, embedding?: Float32Array | number[] | null, recentK = 10, diskK = 5): Promise<SmartContext> {
    return this.cache.smartContext(query, embedding, recentK, diskK);
  }

  /** The window as `role: content` lines. */
  getFormattedContext(maxLines = 50): Promise<string> {
    return this.cache.getFormattedContext(maxLines);
  }

  /** Drops the Redis hot window (the archive keeps the history). */
  clear(): Promise<boolean> {
    return this.cache.clear();
  }

  /** Frees the session's Redis keys; the archive already holds every message. */
  flushToDisk(): Promise<boolean> {
    return this.cache.flushToDisk();
  }

  /** Deletes the session from the archive and Redis. */
  deleteSession(): Promise<void> {
    return this.cache.deleteSession();
  }

  /** Session statistics plus the window's TTL. */
  async getStats(): Promise<ContextWindowStats> {
    return { ...(await this.cache.getStats()), sessionTtlMs: this.cache.sessionTtlMs };
  }
}
