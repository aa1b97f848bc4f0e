import type { ConversationMessage } from './types.js';

/** Counts the tokens of a message's content. Plug in your model's tokenizer. */
export type TokenCounter = (text: string) => number;

/**
 * The default counter: `ceil(characters / 4)`, the usual rule of thumb for English
 * text with GPT-style tokenizers. It over-counts code and under-counts CJK text;
 * pass `countTokens` when the budget must be exact.
 */
export const approximateTokenCount: TokenCounter = (text) => Math.ceil(text.length / 4);

/**
 * The newest messages whose token total fits `maxTokens`, oldest first. Messages are
 * dropped from the oldest end only, so the result is always a suffix of the window;
 * when even the newest message alone exceeds the budget the result is empty.
 */
export function applyTokenBudget(messages: ConversationMessage[], maxTokens: number | null, countTokens: TokenCounter): ConversationMessage[] {
  if (maxTokens === null) return messages;
  let total = 0;
  let start = messages.length;
  while (start > 0) {
    const tokens = countTokens(messages[start - 1]!.content);
    if (!Number.isFinite(tokens) || tokens < 0 || total + tokens > maxTokens) break;
    total += tokens;
    start--;
  }
  return start === 0 ? messages : messages.slice(start);
}
