import { describeValue, showValue } from '@lix/core';
import {
  HybridConversationCache,
  type ConversationMessage,
  type HybridConversationCacheOptions,
  type JsonObject,
  type SessionArchive,
} from '@lix/session-window';
import type { Clock, KVDriver, Logger } from '@lix/redis-pool';
import type { UIMessage } from 'ai';
import { AiSdkCacheError, checkOptionKeys } from './errors.js';
import { canonicalJson } from './fingerprint.js';

/** Options of {@link createChatStore}. */
export interface ChatStoreOptions {
  /** Shared Redis connection (any `@lix/redis-pool` driver) for the hot window. Not closed by the store. */
  driver: KVDriver;
  /** The log of record: a `ConversationArchive` from `@lix/archive`. Not closed by the store. */
  archive: SessionArchive;
  /** First key segment (default `lix`). */
  keyPrefix?: string;
  /** Messages kept hot in Redis per chat (default 20). */
  hotWindowSize?: number;
  /** TTL of a chat's Redis keys (default 24 h). */
  sessionTtlMs?: number;
  /** Largest text of one message in UTF-8 bytes (default 4 MiB). */
  maxContentBytes?: number;
  /** Largest stored message (its JSON) in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  logger?: Logger;
  clock?: Clock;
}

/** What {@link ChatStore.saveChat} reports. */
export interface SaveChatResult {
  /** Messages written: new ones and new versions of changed ones. */
  appended: number;
  /** True when the order or the set of messages changed (e.g. a regenerated answer) and was recorded. */
  reordered: boolean;
}

/** Chat persistence for `useChat` apps: `loadChat` / `saveChat` over the session window and the archive. */
export interface ChatStore {
  /** The chat's messages as last saved (an empty list for an unknown chat). */
  loadChat(chatId: string): Promise<UIMessage[]>;
  /**
   * Stores the chat's messages: appends only the messages not stored yet (and a new
   * version of any whose content changed); when messages were removed or reordered
   * (regenerate), records the new order. Resolves once everything is in the archive.
   */
  saveChat(input: { chatId: string; messages: readonly UIMessage[] }): Promise<SaveChatResult>;
  /** Deletes the chat everywhere (archive first, then Redis). */
  deleteChat(chatId: string): Promise<void>;
  /** The chat's session window, e.g. for `getContext()` or `smartContext()` (one text message per UI message). */
  conversation(chatId: string): HybridConversationCache;
}

const OPTION_KEYS = ['driver', 'archive', 'keyPrefix', 'hotWindowSize', 'sessionTtlMs', 'maxContentBytes', 'maxMessageBytes', 'logger', 'clock'] as const;
/** Metadata key holding the UI message (or an order record) inside a stored turn. */
const UI_KEY = 'lix_ui';
/** Role of the turns that record a new message order; never a UI message. */
const ORDER_ROLE = 'lix:chat-order';
const MB = 1024 * 1024;

interface StoredUiMessage {
  v: 1;
  message: JsonObject;
}
interface StoredOrder {
  v: 1;
  order: string[];
}

interface ChatState {
  messages: Map<string, { message: UIMessage; json: string }>;
  order: string[];
}

function textOf(message: UIMessage): string {
  const text = message.parts
    .filter((part): part is Extract<typeof part, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join('\n');
  // The session window needs non-empty content; a message without text (tool calls only) gets a label.
  return text === '' ? `[${message.role} message ${message.id}]` : text;
}

function checkMessage(message: unknown, index: number): asserts message is UIMessage {
  if (message === null || typeof message !== 'object') throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: messages[${index}] is not an object.`);
  const candidate = message as Partial<UIMessage>;
  if (typeof candidate.id !== 'string' || candidate.id === '')
    throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: messages[${index}] has no id (UI messages need a non-empty string id).`);
  if (candidate.role !== 'user' && candidate.role !== 'assistant' && candidate.role !== 'system') {
    throw new AiSdkCacheError(
      'INVALID_ARGUMENT',
      `saveChat: messages[${index}] has role ${showValue(candidate.role)}; UI messages are user, assistant or system.`,
    );
  }
  if (!Array.isArray(candidate.parts)) throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: messages[${index}] has no parts array.`);
  for (const [at, part] of (candidate.parts as unknown[]).entries()) {
    if (part === null || typeof part !== 'object' || typeof (part as { type?: unknown }).type !== 'string') {
      throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: messages[${index}].parts[${at}] is ${describeValue(part)}, not a part with a string type.`);
    }
    if ((part as { type: string }).type === 'text' && typeof (part as { text?: unknown }).text !== 'string') {
      throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: messages[${index}].parts[${at}] is a text part without a string text.`);
    }
  }
}

/** A message from another writer of the same session (plain `addMessage`) as a UI message. */
function fromPlainTurn(turn: ConversationMessage): UIMessage | undefined {
  if (turn.role !== 'user' && turn.role !== 'assistant' && turn.role !== 'system') return undefined;
  return { id: `lix-${turn.seq}`, role: turn.role, parts: [{ type: 'text', text: turn.content }] };
}

function replay(turns: readonly ConversationMessage[]): ChatState {
  const state: ChatState = { messages: new Map(), order: [] };
  for (const turn of turns) {
    const stored = turn.metadata[UI_KEY] as unknown;
    if (turn.role === ORDER_ROLE) {
      const order = (stored as Partial<StoredOrder> | undefined)?.order;
      if (Array.isArray(order)) state.order = order.filter((id) => typeof id === 'string' && state.messages.has(id));
      continue;
    }
    let message: UIMessage | undefined;
    if (stored !== null && typeof stored === 'object' && (stored as Partial<StoredUiMessage>).v === 1)
      message = (stored as StoredUiMessage).message as unknown as UIMessage;
    else message = fromPlainTurn(turn);
    if (message === undefined || typeof message.id !== 'string') continue;
    if (!state.messages.has(message.id)) state.order.push(message.id);
    // A later version of a message (an edited or completed answer) replaces the earlier one in place.
    state.messages.set(message.id, { message, json: canonicalJson(message) });
  }
  return state;
}

/**
 * Chat persistence for AI SDK UI apps (`useChat`), over `@lix/session-window` and the
 * archive. Each UI message is one turn of the chat's session: its text as the content
 * (so the session window, search and `smartContext` work on it) and the whole message,
 * ids, parts and metadata, as JSON in the turn's metadata, so `loadChat` returns exactly
 * what was saved. Saves of one chat are serialised within the process; two processes
 * saving the same new message at once may both append it, and `loadChat` still returns
 * it once (the latest version of each id wins).
 */
export function createChatStore(options: ChatStoreOptions): ChatStore {
  if (options === null || typeof options !== 'object') throw new AiSdkCacheError('INVALID_OPTION', 'createChatStore needs an options object.');
  checkOptionKeys('createChatStore', options, OPTION_KEYS);
  const maxMessageBytes = options.maxMessageBytes ?? 16 * MB;
  const base: Omit<HybridConversationCacheOptions, 'sessionId'> = {
    driver: options.driver,
    archive: options.archive,
    maxContentBytes: options.maxContentBytes ?? 4 * MB,
    // Room for the envelope around the message JSON.
    maxMetadataBytes: maxMessageBytes + 64,
    ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    ...(options.hotWindowSize === undefined ? {} : { hotWindowSize: options.hotWindowSize }),
    ...(options.sessionTtlMs === undefined ? {} : { sessionTtlMs: options.sessionTtlMs }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  };
  const conversation = (chatId: string): HybridConversationCache => {
    try {
      return new HybridConversationCache({ ...base, sessionId: chatId });
    } catch (error) {
      const code = (error as { code?: string }).code === 'INVALID_SESSION_ID' ? 'INVALID_ARGUMENT' : 'INVALID_OPTION';
      throw new AiSdkCacheError(code, `chat store: ${(error as Error).message}`, { cause: error });
    }
  };
  // Validates the options now rather than on the first call.
  conversation('validate');
  const chains = new Map<string, Promise<unknown>>();
  const serialised = <T>(chatId: string, work: () => Promise<T>): Promise<T> => {
    const previous = chains.get(chatId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    chains.set(chatId, tail);
    void tail.then(() => {
      if (chains.get(chatId) === tail) chains.delete(chatId);
    });
    return run;
  };
  const readState = async (chat: HybridConversationCache): Promise<ChatState> => {
    try {
      return replay(await chat.getFull());
    } catch (error) {
      throw new AiSdkCacheError('STORE_FAILED', `chat "${chat.sessionId}": could not read the stored messages: ${(error as Error).message}`, { cause: error });
    }
  };
  const append = async (chat: HybridConversationCache, role: string, content: string, metadata: JsonObject): Promise<void> => {
    try {
      await chat.addMessage(role, content, metadata);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'CONTENT_TOO_LARGE' || code === 'METADATA_TOO_LARGE' || code === 'INVALID_CONTENT' || code === 'INVALID_METADATA') {
        throw new AiSdkCacheError('INVALID_ARGUMENT', `chat "${chat.sessionId}": ${(error as Error).message}`, { cause: error });
      }
      throw new AiSdkCacheError('STORE_FAILED', `chat "${chat.sessionId}": the archive did not store the message: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };

  return {
    async loadChat(chatId: string): Promise<UIMessage[]> {
      const chat = conversation(chatId);
      const state = await serialised(chatId, () => readState(chat));
      return state.order.map((id) => state.messages.get(id)!.message);
    },

    saveChat(input: { chatId: string; messages: readonly UIMessage[] }): Promise<SaveChatResult> {
      if (input === null || typeof input !== 'object' || !Array.isArray(input.messages)) {
        return Promise.reject(new AiSdkCacheError('INVALID_ARGUMENT', 'saveChat needs { chatId, messages: UIMessage[] }.'));
      }
      let chat: HybridConversationCache;
      let incoming: Array<{ message: UIMessage; json: string }>;
      try {
        chat = conversation(input.chatId);
        const seen = new Set<string>();
        incoming = input.messages.map((message, index) => {
          checkMessage(message, index);
          if (seen.has(message.id)) throw new AiSdkCacheError('INVALID_ARGUMENT', `saveChat: message id ${JSON.stringify(message.id)} appears twice.`);
          seen.add(message.id);
          // Stored as the JSON the client sends over the wire: Dates become strings, undefined members vanish.
          const plain = JSON.parse(JSON.stringify(message)) as UIMessage;
          return { message: plain, json: canonicalJson(plain) };
        });
      } catch (error) {
        return Promise.reject(error);
      }
      return serialised(input.chatId, async () => {
        const state = await readState(chat);
        let appended = 0;
        for (const { message, json } of incoming) {
          if (state.messages.get(message.id)?.json === json) continue;
          const stored: StoredUiMessage = { v: 1, message: message as unknown as JsonObject };
          await append(chat, message.role, textOf(message), { [UI_KEY]: stored as unknown as JsonObject });
          if (!state.messages.has(message.id)) state.order.push(message.id);
          state.messages.set(message.id, { message, json });
          appended++;
        }
        const wanted = incoming.map(({ message }) => message.id);
        const reordered = wanted.length !== state.order.length || wanted.some((id, index) => state.order[index] !== id);
        if (reordered) {
          const order: StoredOrder = { v: 1, order: wanted };
          await append(chat, ORDER_ROLE, `[chat order: ${wanted.length} messages]`, { [UI_KEY]: order as unknown as JsonObject });
        }
        return { appended, reordered };
      });
    },

    async deleteChat(chatId: string): Promise<void> {
      const chat = conversation(chatId);
      await serialised(chatId, async () => {
        try {
          await chat.deleteSession();
        } catch (error) {
          throw new AiSdkCacheError('STORE_FAILED', `chat "${chatId}": could not delete it: ${(error as Error).message}`, { cause: error });
        }
      });
    },

    conversation,
  };
}
