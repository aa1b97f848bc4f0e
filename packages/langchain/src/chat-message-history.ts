import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { showValue } from '@lix/core';
import type { BaseMessage } from '@langchain/core/messages';
import type { ArchiveStore } from '@lix/archive';
import type { Clock, KVDriver, Logger } from '@lix/redis-pool';
import { HybridConversationCache, isSessionWindowError, type ConversationMessage, type TokenCounter } from '@lix/session-window';
import { LixLangChainError, checkOptionKeys } from './errors.js';
import { fromWindowMessage, toWindowTurn, type WindowTurn } from './message-mapping.js';

/** Options of {@link LixChatMessageHistory}. */
export interface LixChatMessageHistoryOptions {
  /** The conversation (one history per session; `RunnableWithMessageHistory` passes it to your factory). */
  sessionId: string;
  /** Shared connection to Redis (or the in-memory driver) from `@lix/redis-pool`. Not closed by the history. */
  driver: KVDriver;
  /** Shared `@lix/archive` store, the log of record: every message is on disk before it is acknowledged. Not closed by the history. */
  archive: ArchiveStore;
  /**
   * What `getMessages()` returns: `'window'` (default), the hot window (the last
   * `hotWindowSize` messages within `sessionMaxTokens`), or `'full'`, the whole history from the archive.
   */
  source?: 'window' | 'full';
  /** Prefix of the window's Redis keys (default `'lix'`); must match an `IdleEvictor`'s. */
  keyPrefix?: string;
  /** Messages kept in the Redis hot window (default 20, at most 1000). */
  hotWindowSize?: number;
  /** TTL of the session's Redis keys, refreshed by every read and write (default 24 h). */
  sessionTtlMs?: number;
  /** Token budget of the window (default `null`: no limit). */
  sessionMaxTokens?: number | null;
  /** Token counter for the budget (default: ceil(chars / 4) of the message text). */
  countTokens?: TokenCounter;
  /** Largest text of one message, in UTF-8 bytes (default 1 MiB). */
  maxContentBytes?: number;
  /** Largest LangChain fields of one message (ids, tool calls, kwargs, non-text content), in bytes of JSON (default 64 KiB). */
  maxMetadataBytes?: number;
  /** Receives warnings (Redis outages served from the archive); nothing is printed otherwise. */
  logger?: Logger;
  /** Time source of message timestamps and activity (inject in tests). */
  clock?: Clock;
}

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'sessionId',
  'driver',
  'archive',
  'source',
  'keyPrefix',
  'hotWindowSize',
  'sessionTtlMs',
  'sessionMaxTokens',
  'countTokens',
  'maxContentBytes',
  'maxMetadataBytes',
  'logger',
  'clock',
]);

const DEFAULT_MAX_CONTENT_BYTES = 1024 * 1024;
const DEFAULT_MAX_METADATA_BYTES = 64 * 1024;
// The window's limits (not exported by @lix/session-window), checked here for a whole batch up front.
const MAX_ROLE_LENGTH = 64;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Translates the window's typed errors into this package's codes, keeping the original as `cause`. */
function translate(error: unknown, action: string): LixLangChainError {
  if (error instanceof LixLangChainError) return error;
  if (isSessionWindowError(error)) {
    switch (error.code) {
      case 'CONTENT_TOO_LARGE':
      case 'METADATA_TOO_LARGE':
        return new LixLangChainError('MESSAGE_TOO_LARGE', `${action}: ${error.message}`, { cause: error });
      case 'INVALID_CONTENT':
      case 'INVALID_METADATA':
      case 'INVALID_ROLE':
        return new LixLangChainError('INVALID_MESSAGE', `${action}: ${error.message}`, { cause: error });
      case 'INVALID_OPTION':
      case 'INVALID_SESSION_ID':
        return new LixLangChainError('INVALID_OPTION', `${action}: ${error.message}`, { cause: error });
      default:
        break;
    }
  }
  return new LixLangChainError('HISTORY_FAILED', `${action}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/**
 * A LangChain chat message history over `@lix/session-window`: the last messages stay
 * hot in Redis, the whole history is in the archive, an idle session leaves Redis and is
 * re-hydrated on its next read, and a Redis outage is served from the archive. Messages
 * are stored with LangChain's own stored-message mapping, so every type and field round-trips.
 *
 * Create one per session (cheap) and share the driver and the archive:
 * `new RunnableWithMessageHistory({ runnable, getMessageHistory: (sessionId) => new LixChatMessageHistory({ sessionId, driver, archive }), … })`.
 */
export class LixChatMessageHistory extends BaseListChatMessageHistory {
  /** LangChain's serialisation namespace of this class. */
  lc_namespace: string[] = ['lix', 'langchain', 'chat_history'];

  /** The session this history reads and writes. */
  readonly sessionId: string;
  /** What `getMessages()` returns. */
  readonly source: 'window' | 'full';
  /** The session window underneath (stats, `flushToDisk`, `smartContext`). */
  readonly window: HybridConversationCache;

  readonly #logger: Logger | undefined;
  readonly #maxContentBytes: number;
  readonly #maxMetadataBytes: number;

  constructor(options: LixChatMessageHistoryOptions) {
    super();
    checkOptionKeys(options, 'LixChatMessageHistory', KNOWN_OPTIONS);
    const source = options.source ?? 'window';
    if (source !== 'window' && source !== 'full') throw new LixLangChainError('INVALID_OPTION', `source must be 'window' or 'full', got ${showValue(source)}.`);
    const { archive } = options;
    if (archive === null || typeof archive !== 'object' || typeof archive.appendTurns !== 'function' || typeof archive.loadRecent !== 'function') {
      throw new LixLangChainError('INVALID_OPTION', 'archive must be an ArchiveStore from @lix/archive (e.g. a ConversationArchive).');
    }
    const { source: _source, ...windowOptions } = options;
    try {
      this.window = new HybridConversationCache(windowOptions);
    } catch (error) {
      throw translate(error, 'LixChatMessageHistory');
    }
    this.sessionId = options.sessionId;
    this.source = source;
    this.#logger = options.logger;
    this.#maxContentBytes = options.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
    this.#maxMetadataBytes = options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES;
  }

  /** The hot window (default) or the whole history (`source: 'full'`), oldest first. */
  async getMessages(): Promise<BaseMessage[]> {
    return this.source === 'full' ? this.getFullHistory() : this.getWindowMessages();
  }

  /** The hot window, oldest first: one Redis round trip in the steady state. */
  async getWindowMessages(): Promise<BaseMessage[]> {
    let messages: ConversationMessage[];
    try {
      messages = await this.window.getContext();
    } catch (error) {
      throw translate(error, `session "${this.sessionId}": could not read the history`);
    }
    return messages.map((message) => fromWindowMessage(message, this.#onUnreadable));
  }

  /** The whole history from the archive, oldest first. */
  async getFullHistory(): Promise<BaseMessage[]> {
    let messages: ConversationMessage[];
    try {
      messages = await this.window.getFull();
    } catch (error) {
      throw translate(error, `session "${this.sessionId}": could not read the history`);
    }
    return messages.map((message) => fromWindowMessage(message, this.#onUnreadable));
  }

  readonly #onUnreadable = (error: unknown): void => {
    this.#logger?.warn?.('langchain: a stored message could not be restored by LangChain; returned by its role', { sessionId: this.sessionId, error });
  };

  /**
   * Stores one message: one archive append, then one Redis round trip. Resolves once the
   * archive holds it; a Redis failure after that is logged, and the next read repairs the window.
   */
  async addMessage(message: BaseMessage): Promise<void> {
    const turn = toWindowTurn(message);
    try {
      await this.window.addMessage(turn.role, turn.content, turn.metadata);
    } catch (error) {
      throw translate(error, `session "${this.sessionId}": the message was not stored`);
    }
  }

  /**
   * Stores several messages, in order. Every message is checked first, so a bad one
   * (`INVALID_MESSAGE`, `MESSAGE_TOO_LARGE`) stores none of them. Then the batch goes
   * through the window's `addMessages`: one archive append and one Redis round trip for
   * up to 256 messages. An archive failure rejects with `HISTORY_FAILED`, and the batch
   * is not stored (a batch above 256 messages is written in parts; see the README).
   */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    if (!Array.isArray(messages)) throw new LixLangChainError('INVALID_MESSAGE', 'addMessages needs an array of LangChain messages.');
    const turns = messages.map((message, index) => this.#checked(toWindowTurn(message, index), index));
    try {
      await this.window.addMessages(turns.map((turn) => ({ role: turn.role, content: turn.content, metadata: turn.metadata })));
    } catch (error) {
      throw translate(error, `session "${this.sessionId}": the ${turns.length} messages were not stored`);
    }
  }

  /** The window's limits, checked for the whole batch before any message is stored. */
  #checked(turn: WindowTurn, index: number): WindowTurn {
    if (turn.role.trim() === '' || turn.role.length > MAX_ROLE_LENGTH) {
      throw new LixLangChainError(
        'INVALID_MESSAGE',
        `messages[${index}] has the role ${JSON.stringify(turn.role.slice(0, 80))}; the window stores roles of 1 to ${MAX_ROLE_LENGTH} characters.`,
      );
    }
    const contentBytes = Buffer.byteLength(turn.content, 'utf8');
    if (contentBytes > this.#maxContentBytes) {
      throw new LixLangChainError(
        'MESSAGE_TOO_LARGE',
        `messages[${index}] has ${contentBytes} bytes of text; the limit (maxContentBytes) is ${this.#maxContentBytes}.`,
      );
    }
    const metadataBytes = Buffer.byteLength(JSON.stringify(turn.metadata), 'utf8');
    if (metadataBytes > this.#maxMetadataBytes) {
      throw new LixLangChainError(
        'MESSAGE_TOO_LARGE',
        `messages[${index}] has ${metadataBytes} bytes of LangChain fields as JSON; the limit (maxMetadataBytes) is ${this.#maxMetadataBytes}.`,
      );
    }
    if (loneSurrogate.test(turn.content) || loneSurrogate.test(turn.role)) {
      throw new LixLangChainError('INVALID_MESSAGE', `messages[${index}] holds a lone surrogate, which UTF-8 storage would alter.`);
    }
    return turn;
  }

  /**
   * Forgets the conversation: deletes it from the archive and Redis, so the next
   * `getMessages()` is empty (LangChain's meaning of `clear`; the window's own `clear()`
   * only drops the hot copy). An unreachable Redis leaves keys that expire by TTL and are
   * replaced by the next message.
   */
  override async clear(): Promise<void> {
    try {
      await this.window.deleteSession();
    } catch (error) {
      throw translate(error, `session "${this.sessionId}": could not clear the history`);
    }
  }
}
