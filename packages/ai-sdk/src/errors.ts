import { LixError } from '@lix/core';

/**
 * Stable codes of {@link AiSdkCacheError}.
 *
 * - `INVALID_OPTION`: an option of a factory is missing, out of range, of the wrong type, or unknown (a typo).
 * - `INVALID_ARGUMENT`: a call argument is malformed (e.g. `saveChat` without a messages array, a message without an id).
 * - `STORE_FAILED`: `saveChat` / `loadChat` could not reach the archive (the messages were NOT stored); the cause is kept.
 */
export type AiSdkCacheErrorCode = 'INVALID_OPTION' | 'INVALID_ARGUMENT' | 'STORE_FAILED';

/** The one error type of `@lix/ai-sdk`; `code` is stable, `cause` keeps the underlying error. */
export class AiSdkCacheError extends LixError<AiSdkCacheErrorCode> {
  override name = 'AiSdkCacheError';
}

/** True when `error` is an {@link AiSdkCacheError} (optionally with the given code). */
export function isAiSdkCacheError(error: unknown, code?: AiSdkCacheErrorCode): error is AiSdkCacheError {
  return error instanceof AiSdkCacheError && (code === undefined || error.code === code);
}

/** Rejects option objects with keys the factory does not know, so a typo never silently changes behaviour. */
export function checkOptionKeys(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new AiSdkCacheError('INVALID_OPTION', `${what}: unknown option "${key}" (known: ${known.join(', ')}).`);
    }
  }
}
