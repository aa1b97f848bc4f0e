import { systemClock, type Clock, type KVDriver, type Logger, type ScriptReply } from '@lix/redis-pool';
import type { ArchiveTurn, SessionArchive } from './archive-port.js';
import { SessionWindowError } from './errors.js';
import { sessionKeys, validateKeyPrefix, type SessionKeys } from './keys.js';
import { decodeRecord, encodeTrustedRecord, recordSeq } from './record.js';
import { APPEND_REBUILD, appendScript, evictScript, readScript, rebuildScript } from './scripts.js';
import { applyTokenBudget, approximateTokenCount, type TokenCounter } from './token-budget.js';
import type { ConversationMessage, JsonObject, RelevantMessage, SessionStats, SmartContext } from './types.js';
import { clockOption, integerArgument, integerOption, loggerOption, validateEmbedding, validateMessage, validateSessionId, type MessageLimits } from './validate.js';

/** Options of {@link HybridConversationCache}. */
export interface HybridConversationCacheOptions {
  /** The conversation this instance reads and writes. */
  sessionId: string;
  /** Shared connection to Redis (or the in-memory driver); one driver serves every session. */
  driver: KVDriver;
  /** Shared archive, the log of record: every message is on disk before it is acknowledged. */
  archive: SessionArchive;
  /** Prefix of every Redis key (default `'lix'`). */
  keyPrefix?: string;
  /** Messages kept in the Redis hot window (default 20, at most 1000). */
  hotWindowSize?: number;
  /** TTL of the session's Redis keys, refreshed by every read and write (default 24 h). */
  sessionTtlMs?: number;
  /** Token budget of `getContext` (default `null`: no limit). */
  sessionMaxTokens?: number | null;
  /** Token counter for the budget (default {@link approximateTokenCount}: ceil(chars / 4)). */
  countTokens?: TokenCounter;
  /** Largest accepted content, in UTF-8 bytes (default 1 MiB). */
  maxContentBytes?: number;
  /** Largest accepted metadata, in bytes of JSON (default 64 KiB). */
  maxMetadataBytes?: number;
  /** Most dimensions accepted in an embedding (default 65 536). */
  maxEmbeddingLength?: number;
  logger?: Logger;
  clock?: Clock;
}

const MB = 1024 * 1024;

function toMessage(turn: ArchiveTurn, withEmbedding: boolean): ConversationMessage {
  const message: ConversationMessage = {
    seq: turn.seq,
    role: turn.role,
    content: turn.content,
    timestamp: turn.timestamp,
    metadata: (turn.metadata ?? {}) as JsonObject,
  };
  if (withEmbedding && turn.embedding !== undefined) message.embedding = turn.embedding;
  return message;
}

function asRecords(reply: ScriptReply): Uint8Array[] {
  if (!Array.isArray(reply)) return [];
  return reply.filter((item): item is Uint8Array => item instanceof Uint8Array);
}

/**
 * Session memory with a hot window in Redis and the full history in the archive.
 *
 * Write-through: `addMessage` first appends the message to the archive, which assigns
 * its seq under a cross-process lock, and then pushes it into the hot window with one
 * script call (push, trim, TTL refresh and activity, in one round trip). So an
 * acknowledged message is on disk, and neither a Redis crash nor an outage can lose it.
 * Instances are cheap: create one per session and share the driver and the archive.
 */
export class HybridConversationCache {
  /** The session this instance serves. */
  readonly sessionId: string;
  /** Messages kept in the hot window. */
  readonly hotWindowSize: number;
  /** TTL of the session's Redis keys, in ms. */
  readonly sessionTtlMs: number;
  /** Token budget of `getContext`, or `null`. */
  readonly sessionMaxTokens: number | null;

  private readonly driver: KVDriver;
  private readonly archive: SessionArchive;
  private readonly keys: SessionKeys;
  private readonly keyList: string[];
  private readonly countTokens: TokenCounter;
  private readonly limits: MessageLimits;
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;
  // Rebuilds are single-flight per instance: a caller joins the queued rebuild if one
  // has not started yet (it will read the archive after the caller's write).
  private rebuildChain: Promise<unknown> = Promise.resolve();
  private queuedRebuild: Promise<ConversationMessage[]> | null = null;

  constructor(options: HybridConversationCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SessionWindowError('INVALID_OPTION', 'HybridConversationCache needs an options object');
    }
    validateSessionId(options.sessionId);
    if (options.driver === undefined || options.driver === null || typeof options.driver.eval !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', 'driver must be a KVDriver from @lix/redis-pool');
    }
    if (options.archive === undefined || options.archive === null || typeof options.archive.appendTurn !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', 'archive must be a ConversationArchive from @lix/archive');
    }
    this.sessionId = options.sessionId;
    this.driver = options.driver;
    this.archive = options.archive;
    this.keys = sessionKeys(validateKeyPrefix(options.keyPrefix), options.sessionId);
    this.keyList = [this.keys.hot, this.keys.activity];
    this.hotWindowSize = integerOption('hotWindowSize', options.hotWindowSize, 20, 1, 1000);
    this.sessionTtlMs = integerOption('sessionTtlMs', options.sessionTtlMs, 86_400_000, 1000, 2 ** 40);
    const maxTokens = options.sessionMaxTokens ?? null;
    this.sessionMaxTokens = maxTokens === null ? null : integerOption('sessionMaxTokens', maxTokens, 0, 1, 2 ** 40);
    if (options.countTokens !== undefined && typeof options.countTokens !== 'function') {
      throw new SessionWindowError('INVALID_OPTION', 'countTokens must be a function (text) => number');
    }
    this.countTokens = options.countTokens ?? approximateTokenCount;
    this.limits = {
      maxContentBytes: integerOption('maxContentBytes', options.maxContentBytes, MB, 1, 512 * MB),
      maxMetadataBytes: integerOption('maxMetadataBytes', options.maxMetadataBytes, 64 * 1024, 2, 64 * MB),
      maxEmbeddingLength: integerOption('maxEmbeddingLength', options.maxEmbeddingLength, 65_536, 1, 16 * MB),
    };
    this.logger = loggerOption(options.logger);
    this.clock = clockOption(options.clock) ?? systemClock;
  }

  /**
   * Adds a message and resolves with its seq (its id: unique and increasing within the
   * session) once the archive holds it. A Redis failure after that point is logged,
   * not thrown: the message is stored, and the next read repairs the window. Rejects
   * with a {@link SessionWindowError} for bad input, or `ARCHIVE_FAILED` (message NOT stored).
   */
  async addMessage(role: string, content: string, metadata?: JsonObject, embedding?: Float32Array | number[]): Promise<number> {
    const valid = validateMessage(role, content, metadata, embedding, this.limits);
    const timestamp = this.nowMs() / 1000;
    let seq: number;
    try {
      const result = await this.archive.appendTurn(this.sessionId, {
        role: valid.role,
        content: valid.content,
        timestamp,
        metadata: valid.metadata,
        ...(valid.embedding === undefined ? {} : { embedding: valid.embedding }),
      });
      const assigned = result.seqs[0] ?? result.lastSeq;
      if (typeof assigned !== 'number' || !Number.isInteger(assigned) || assigned < 1) {
        throw new TypeError(`the archive returned no seq for the appended turn (got ${JSON.stringify(result)})`);
      }
      seq = assigned;
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": the archive did not store the message: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
    }
    await this.pushToWindow({ seq, role: valid.role, content: valid.content, timestamp, metadata: valid.metadata });
    return seq;
  }

  private async pushToWindow(message: ConversationMessage): Promise<void> {
    const record = encodeTrustedRecord(message);
    try {
      if (message.seq === 1) {
        // Seq 1 starts a new history: whatever Redis still holds for this session
        // belongs to an archive that was deleted, so it is replaced, not merged.
        await this.driver.eval(rebuildScript, this.keyList, [this.hotWindowSize, this.sessionTtlMs, this.nowMs(), 'replace', record]);
        return;
      }
      const status = await this.driver.eval(appendScript, this.keyList, [record, this.hotWindowSize, this.sessionTtlMs, this.nowMs()]);
      if (status === APPEND_REBUILD) await this.requestRebuild();
    } catch (error) {
      this.logger?.warn?.('session-window: message stored in the archive but not pushed to the Redis window; the next read repairs it', {
        sessionId: this.sessionId,
        seq: message.seq,
        error,
      });
    }
  }

  private nowMs(): number {
    const now = this.clock.now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new SessionWindowError('INVALID_OPTION', `clock.now() must return a finite number of ms (got ${String(now)})`);
    }
    return Math.round(now);
  }

  /**
   * The hot window, oldest first: the last `hotWindowSize` messages, within the token
   * budget. One Redis round trip in the steady state (read and TTL refresh in one
   * script), checked against the archive's last seq; an evicted, expired or stale
   * window (after an outage) is rebuilt from the archive. With Redis unreachable the
   * window is read from the archive.
   */
  async getContext(): Promise<ConversationMessage[]> {
    const [hot, meta] = await Promise.allSettled([
      this.driver.eval(readScript, this.keyList, [this.sessionTtlMs, this.nowMs()]),
      this.archive.getMetadata(this.sessionId),
    ]);
    if (hot.status === 'rejected') {
      this.logger?.warn?.('session-window: Redis unreachable, reading the window from the archive', { sessionId: this.sessionId, error: hot.reason });
      return this.budget(await this.recentFromArchive(this.hotWindowSize));
    }
    const records = asRecords(hot.value);
    const messages: ConversationMessage[] = [];
    let intact = true;
    for (const record of records) {
      const message = decodeRecord(record);
      if (message === null) intact = false;
      else messages.push(message);
    }
    if (meta.status === 'rejected') {
      this.logger?.warn?.('session-window: archive metadata unreadable, serving the Redis window unchecked', { sessionId: this.sessionId, error: meta.reason });
      if (messages.length > 0) return this.budget(messages);
      return this.budget(await this.recentFromArchive(this.hotWindowSize));
    }
    const archivedLastSeq = meta.value?.lastSeq ?? 0;
    if (intact && this.isCompleteWindow(messages, archivedLastSeq)) return this.budget(messages);
    const hotLastSeq = records.length > 0 ? recordSeq(records[records.length - 1]!) : 0;
    const window = hotLastSeq > archivedLastSeq || !intact ? await this.rebuild('replace') : await this.requestRebuild();
    return this.budget(window);
  }

  private isCompleteWindow(messages: ConversationMessage[], archivedLastSeq: number): boolean {
    if (messages.length === 0) return archivedLastSeq === 0;
    const first = messages[0]!.seq;
    const last = messages[messages.length - 1]!.seq;
    if (last !== archivedLastSeq) return false;
    if (last - first + 1 !== messages.length) return false;
    for (let index = 1; index < messages.length; index++) if (messages[index]!.seq !== first + index) return false;
    return messages.length === this.hotWindowSize || first === 1;
  }

  private budget(messages: ConversationMessage[]): ConversationMessage[] {
    return applyTokenBudget(messages, this.sessionMaxTokens, this.countTokens);
  }

  private requestRebuild(): Promise<ConversationMessage[]> {
    if (this.queuedRebuild !== null) return this.queuedRebuild;
    const run = this.rebuildChain.then(() => {
      this.queuedRebuild = null;
      return this.rebuild('merge');
    });
    this.queuedRebuild = run;
    this.rebuildChain = run.catch(() => undefined);
    return run;
  }

  /** Reads the last messages from the archive and writes them into the window; returns the window. */
  private async rebuild(mode: 'merge' | 'replace'): Promise<ConversationMessage[]> {
    const recent = await this.recentFromArchive(this.hotWindowSize);
    try {
      const reply = await this.driver.eval(rebuildScript, this.keyList, [
        this.hotWindowSize,
        this.sessionTtlMs,
        this.nowMs(),
        mode,
        ...recent.map((message) => encodeTrustedRecord(message)),
      ]);
      const window: ConversationMessage[] = [];
      for (const record of asRecords(reply)) {
        const message = decodeRecord(record);
        if (message !== null) window.push(message);
      }
      this.logger?.debug?.('session-window: window rebuilt from the archive', { sessionId: this.sessionId, mode, messages: window.length });
      return window;
    } catch (error) {
      this.logger?.warn?.('session-window: could not rebuild the Redis window; serving it from the archive', { sessionId: this.sessionId, error });
      return recent;
    }
  }

  private async recentFromArchive(count: number): Promise<ConversationMessage[]> {
    try {
      const turns = await this.archive.loadRecent(this.sessionId, count);
      return turns.map((turn) => toMessage(turn, false));
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not read the archive: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  /**
   * The whole history, oldest first, each message once, embeddings included. The
   * archive is the log of record (every message reaches it before Redis), so this
   * reads the archive alone.
   */
  async getFull(): Promise<ConversationMessage[]> {
    try {
      const turns = await this.archive.loadAll(this.sessionId);
      return turns.map((turn) => toMessage(turn, true));
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not read the archive: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  /**
   * The last `recentK` messages plus up to `diskK` older ones most similar to the
   * query: by cosine similarity to `embedding` when given, else by the archive's
   * text search. Messages in `recent` are never repeated in `relevant`.
   */
  async smartContext(query: string, embedding?: Float32Array | number[] | null, recentK = 10, diskK = 5): Promise<SmartContext> {
    if (typeof query !== 'string') throw new SessionWindowError('INVALID_ARGUMENT', `query must be a string (got ${typeof query})`);
    integerArgument('recentK', recentK, 0, 100_000);
    integerArgument('diskK', diskK, 0, 10_000);
    const vector = validateEmbedding(embedding ?? undefined, this.limits.maxEmbeddingLength);
    let recent: ConversationMessage[];
    if (recentK === 0) recent = [];
    else if (recentK <= this.hotWindowSize) recent = (await this.getContext()).slice(-recentK);
    else recent = this.budget(await this.recentFromArchive(recentK));
    if (diskK === 0 || (vector === undefined && query.trim() === '')) return { recent, relevant: [] };
    const exclude = new Set(recent.map((message) => message.seq));
    let hits: { turn: ArchiveTurn; score: number }[];
    try {
      hits =
        vector !== undefined
          ? await this.archive.searchByEmbedding(this.sessionId, vector, diskK + exclude.size)
          : await this.archive.searchByText(this.sessionId, query, diskK + exclude.size);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": archive search failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    const relevant: RelevantMessage[] = [];
    for (const hit of hits) {
      if (exclude.has(hit.turn.seq)) continue;
      relevant.push({ ...toMessage(hit.turn, false), score: hit.score });
      if (relevant.length === diskK) break;
    }
    return { recent, relevant };
  }

  /**
   * The window as text for a prompt: one `role: content` entry per message, the
   * newest `maxLines` messages, oldest first, joined by newlines.
   */
  async getFormattedContext(maxLines = 50): Promise<string> {
    integerArgument('maxLines', maxLines, 0, 1_000_000);
    if (maxLines === 0) return '';
    const messages = (await this.getContext()).slice(-maxLines);
    return messages.map((message) => `${message.role}: ${message.content}`).join('\n');
  }

  /**
   * Frees the session's Redis keys after checking the archive holds every message of
   * the window (it always does, by write-through). Resolves `true` when keys were
   * freed. The next `getContext` re-hydrates the window from the archive.
   */
  async flushToDisk(): Promise<boolean> {
    const meta = await this.archiveMetadata();
    // The archive check is belt and braces: write-through already guarantees it.
    const result = await this.driver.eval(evictScript, this.keyList, [Number.MAX_SAFE_INTEGER, meta?.lastSeq ?? 0]);
    if (result === -1) {
      this.logger?.warn?.('session-window: the window holds messages the archive lacks; keys kept', { sessionId: this.sessionId });
    }
    return result === 1;
  }

  /**
   * Drops the Redis hot window (the original's `clear`). The history stays in the
   * archive, so the next `getContext` re-hydrates the last messages from it; use
   * {@link deleteSession} to forget the conversation. Resolves `true` when keys existed.
   * Rejects with the driver's `KVError` when Redis is unreachable.
   */
  async clear(): Promise<boolean> {
    return (await this.driver.del(this.keyList)) > 0;
  }

  /**
   * Deletes the session everywhere: the archive first (the log of record), then the
   * Redis keys. When Redis is unreachable its keys expire by TTL; and a later message
   * (seq 1 of a new history) replaces them.
   */
  async deleteSession(): Promise<void> {
    try {
      await this.archive.deleteSession(this.sessionId);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not delete the archive: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    try {
      await this.driver.del(this.keyList);
    } catch (error) {
      this.logger?.warn?.('session-window: archive deleted but Redis keys could not be removed; they expire by TTL', { sessionId: this.sessionId, error });
    }
  }

  private async archiveMetadata(): Promise<{ turnCount: number; sizeBytes: number; lastSeq: number } | null> {
    try {
      return await this.archive.getMetadata(this.sessionId);
    } catch (error) {
      throw new SessionWindowError('ARCHIVE_FAILED', `session "${this.sessionId}": could not read archive metadata: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  /** Counts and sizes of the session in Redis and the archive. */
  async getStats(): Promise<SessionStats> {
    const meta = await this.archiveMetadata();
    let hotMessages = 0;
    let hotBytes = 0;
    let lastActiveMs: number | null = null;
    let redisAvailable = true;
    try {
      const batch = this.driver.batch();
      const list = batch.lrange(this.keys.hot, 0, -1);
      const at = batch.get(this.keys.activity);
      // exec() reports the failure; the per-command promises must not go unhandled.
      list.catch(() => undefined);
      at.catch(() => undefined);
      await batch.exec();
      const records = await list;
      hotMessages = records.length;
      hotBytes = records.reduce((sum, record) => sum + record.length, 0);
      const atBytes = await at;
      lastActiveMs = atBytes === null ? null : Number(new TextDecoder().decode(atBytes));
    } catch (error) {
      redisAvailable = false;
      this.logger?.warn?.('session-window: Redis unreachable for stats', { sessionId: this.sessionId, error });
    }
    return {
      sessionId: this.sessionId,
      hotMessages,
      hotBytes,
      archivedMessages: meta?.turnCount ?? 0,
      archiveBytes: meta?.sizeBytes ?? 0,
      lastSeq: meta?.lastSeq ?? 0,
      hotWindowSize: this.hotWindowSize,
      sessionMaxTokens: this.sessionMaxTokens,
      lastActiveMs,
      redisAvailable,
    };
  }
}
