/**
 * Turns the prompt string LangChain hands a cache into the text whose embedding is the
 * semantic key, or `null` to bypass the cache for this prompt (no lookup, no update).
 */
export type QueryExtractor = (prompt: string) => string | null;

const HUMAN_PREFIX = 'Human: ';
// The prefixes getBufferString() writes for the other message types.
const OTHER_TURN = /\n(?:AI|System|Tool|Function): /;
const OTHER_START = /^(?:AI|System|Tool|Function): /;

/**
 * The default {@link QueryExtractor}: the last human turn of a chat prompt
 * (`getBufferString` form: `System: …\nHuman: …\nAI: …\nHuman: …`), or the whole prompt of a
 * plain LLM (no `Human: ` line).
 *
 * When the prompt does not end with a human turn, e.g. an agent step after a tool result
 * (`Human: q\nAI: [tool call]\nTool: result`), the answer depends on more than the
 * question, so the prompt bypasses the cache: a returned tool call would loop the agent.
 */
export function lastHumanTurn(prompt: string): string | null {
  const at = prompt.lastIndexOf(`\n${HUMAN_PREFIX}`);
  let start: number;
  if (at >= 0) start = at + 1;
  else if (prompt.startsWith(HUMAN_PREFIX)) start = 0;
  else {
    // No human turn: a plain LLM prompt, unless it is a transcript of other turns only.
    if (OTHER_START.test(prompt) || OTHER_TURN.test(prompt)) return null;
    return prompt.trim() === '' ? null : prompt;
  }
  const query = prompt.slice(start + HUMAN_PREFIX.length);
  if (OTHER_TURN.test(query)) return null;
  return query.trim() === '' ? null : query;
}
