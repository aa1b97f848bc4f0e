import {
  AIMessage,
  ChatMessage,
  HumanMessage,
  SystemMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  isBaseMessage,
  type BaseMessage,
  type StoredMessage,
} from '@langchain/core/messages';
import type { ConversationMessage, JsonObject } from '@lix/session-window';
import { LixLangChainError } from './errors.js';
import { toJsonObject } from './json.js';

/** The metadata key under which a window message keeps LangChain's stored form of the message. */
export const STORED_MESSAGE_KEY = 'langchain';

/** A message as the session window stores it: a role, a non-empty text, JSON metadata. */
export interface WindowTurn {
  role: string;
  content: string;
  metadata: JsonObject;
}

// Window roles follow the chat convention the other lix-cache layers use, so a history
// written through LangChain reads naturally in getFormattedContext() or the coordinator.
const ROLE_OF_TYPE: Record<string, string> = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool', function: 'function' };

function readableText(data: StoredMessage['data'] & { tool_calls?: unknown }): string {
  const { content } = data as { content: unknown };
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts: string[] = [];
    for (const block of content) {
      if (typeof block === 'string') parts.push(block);
      else if (block !== null && typeof block === 'object' && typeof (block as { text?: unknown }).text === 'string')
        parts.push((block as { text: string }).text);
    }
    return parts.join('');
  }
  return '';
}

/**
 * Maps a LangChain message to a window turn with LangChain's own stored-message form
 * (`toDict()`), so every field (ids, tool calls, `additional_kwargs`, `response_metadata`,
 * usage, artifacts) comes back. A string content is the window's content and is not
 * repeated in the metadata; any other content (blocks, or an empty string, which the window
 * cannot hold) stays verbatim in the metadata, and the window's content is its text, used
 * for the token budget and text search.
 */
export function toWindowTurn(message: unknown, index = 0): WindowTurn {
  if (!isBaseMessage(message)) {
    throw new LixLangChainError(
      'INVALID_MESSAGE',
      `messages[${index}] is not a LangChain message (BaseMessage); build one with new HumanMessage(...) or coerceMessageLikeToMessage().`,
    );
  }
  // toDict() turns a Date or a Map in these free-form fields into `{}`; refuse them instead of storing the loss.
  toJsonObject(message.additional_kwargs ?? {}, `messages[${index}].additional_kwargs`);
  toJsonObject(message.response_metadata ?? {}, `messages[${index}].response_metadata`);
  const [stored] = mapChatMessagesToStoredMessages([message]);
  if (stored === undefined) throw new LixLangChainError('INVALID_MESSAGE', `messages[${index}] has no stored form.`);
  const data = toJsonObject(stored.data, `messages[${index}]`);
  try {
    // What LangChain cannot restore (a RemoveMessage, a tool message without tool_call_id) is refused now, not on read.
    mapStoredMessagesToChatMessages([{ type: stored.type, data: data as unknown as StoredMessage['data'] }]);
  } catch (error) {
    throw new LixLangChainError(
      'INVALID_MESSAGE',
      `messages[${index}] (type "${stored.type}") cannot be restored by LangChain: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    );
  }
  const role = stored.type === 'generic' && typeof data.role === 'string' && data.role.trim() !== '' ? data.role : (ROLE_OF_TYPE[stored.type] ?? stored.type);
  const text = readableText(stored.data);
  const keep: JsonObject = { ...data };
  let content: string;
  if (typeof data.content === 'string' && data.content.length > 0) {
    content = data.content;
    delete keep.content;
  } else {
    const calls = (data as { tool_calls?: unknown }).tool_calls;
    content = text.length > 0 ? text : Array.isArray(calls) && calls.length > 0 ? JSON.stringify(calls) : ' ';
  }
  return { role, content, metadata: { [STORED_MESSAGE_KEY]: { type: stored.type, data: keep } } };
}

function storedOf(metadata: JsonObject): { type: string; data: JsonObject } | undefined {
  const entry = metadata[STORED_MESSAGE_KEY];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const { type, data } = entry;
  if (typeof type !== 'string' || data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  return { type, data };
}

/** A message written without this package (e.g. by `@lix/coordinator`): mapped by its role. */
function foreignMessage(message: ConversationMessage): BaseMessage {
  switch (message.role) {
    case 'user':
    case 'human':
      return new HumanMessage(message.content);
    case 'assistant':
    case 'ai':
      return new AIMessage(message.content);
    case 'system':
      return new SystemMessage(message.content);
    default:
      return new ChatMessage({ content: message.content, role: message.role });
  }
}

/**
 * Restores the LangChain message of a window message, through LangChain's own
 * `mapStoredMessagesToChatMessages`. Messages other writers stored (no LangChain form, or
 * one LangChain cannot restore) are mapped by role; `onUnreadable` hears about the latter.
 */
export function fromWindowMessage(message: ConversationMessage, onUnreadable?: (error: unknown) => void): BaseMessage {
  const stored = storedOf(message.metadata);
  if (stored === undefined) return foreignMessage(message);
  const data = 'content' in stored.data ? stored.data : { ...stored.data, content: message.content };
  try {
    const [restored] = mapStoredMessagesToChatMessages([{ type: stored.type, data: data as unknown as StoredMessage['data'] }]);
    if (restored !== undefined) return restored;
  } catch (error) {
    onUnreadable?.(error);
  }
  return foreignMessage(message);
}
