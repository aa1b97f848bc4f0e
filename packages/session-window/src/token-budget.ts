import { SessionWindowError } from './errors.js';
import type { ConversationMessage } from './types.js';
import { describe } from './validate.js';

/** Counts the tokens of a message's content. Plug in your model's tokenizer. */
export type TokenCounter = (text: string) => number;

/**
 * The default counter: `ceil(characters / 4)`, the usual rule of thumb for English
 * text with GPT-style tokenizers. It over-counts code and under-counts CJK text;
 * pass `countTokens` when the budget must be exact.
 */
export const approximateTokenCount: TokenCounter = (text) => {
  if (typeof text !== 'string') throw new SessionWindowError('INVALID_ARGUMENT', `countTokens needs a string (got ${typeof text})`);
  return Math.ceil(text.length / 4);
};

/**
 * The newest messages whose token total fits `maxTokens`, oldest first. Messages are
 * dropped from the oldest end only, so the result is always a suffix of the window;
 * when even the newest message alone exceeds the budget the result is empty.
 */
export function applyTokenBudget(messages: ConversationMessage[], maxTokens: number | null, countTokens: TokenCounter): ConversationMessage[] {
  if (!Array.isArray(messages)) throw new SessionWindowError('INVALID_ARGUMENT', 'applyTokenBudget needs an array of messages');
  if (maxTokens !== null && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 0)) {
    throw new SessionWindowError('INVALID_ARGUMENT', `maxTokens must be null or a non-negative integer (got ${describe(maxTokens)})`);
  }
  if (typeof countTokens !== 'function') throw new SessionWindowError('INVALID_ARGUMENT', 'countTokens must be a function');
  if (maxTokens === null) return messages;
  let total = 0;
  let start = messages.length;
  while (start > 0) {
    const message = messages[start - 1] as Partial<ConversationMessage> | null | undefined;
    if (message === null || typeof message !== 'object' || typeof message.content !== 'string') {
      throw new SessionWindowError('INVALID_ARGUMENT', `applyTokenBudget: message ${start - 1} has no string content`);
    }
    const tokens = countTokens(message.content);
    if (!Number.isFinite(tokens) || tokens < 0 || total + tokens > maxTokens) break;
    total += tokens;
    start--;
  }
  return start === 0 ? messages : messages.slice(start);
}
