import { LixError } from '@lix/core';

/**
 * Stable codes of {@link LixLangChainError}.
 *
 * - `INVALID_OPTION`: a constructor option is missing, out of range or unknown.
 * - `INVALID_MESSAGE`: what was passed to a history is not a LangChain message, has a type
 *   LangChain cannot restore, or holds values that are not JSON (functions, bigints, cycles).
 * - `MESSAGE_TOO_LARGE`: a message exceeds the window's `maxContentBytes` or `maxMetadataBytes`.
 * - `HISTORY_FAILED`: the archive (the log of record) could not store or read the history; for
 *   `addMessage(s)` the messages were NOT stored. The underlying error is the `cause`.
 */
export type LixLangChainErrorCode = 'INVALID_OPTION' | 'INVALID_MESSAGE' | 'MESSAGE_TOO_LARGE' | 'HISTORY_FAILED';

/** The one error type of `@lix/langchain`; `code` is stable, `cause` keeps the underlying error. */
export class LixLangChainError extends LixError<LixLangChainErrorCode> {
  override name = 'LixLangChainError';
}

/** True when `error` is a {@link LixLangChainError} (optionally with the given code). */
export function isLixLangChainError(error: unknown, code?: LixLangChainErrorCode): error is LixLangChainError {
  return error instanceof LixLangChainError && (code === undefined || error.code === code);
}

/** Throws `INVALID_OPTION` for an options object that is not one, or holds a key not in `known`. */
export function checkOptionKeys(options: unknown, owner: string, known: ReadonlySet<string>): asserts options is Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LixLangChainError('INVALID_OPTION', `${owner} needs an options object.`);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new LixLangChainError('INVALID_OPTION', `${owner} has no option "${key}" (known: ${[...known].join(', ')}).`);
  }
}
