import { LixError } from '@lix/core';

/**
 * Stable codes of {@link SessionWindowError}. They are part of the public API: a code
 * is never renamed or reused for another failure.
 *
 * - `INVALID_SESSION_ID`: the session id is not a non-empty string of at most 512 characters.
 * - `INVALID_ROLE`: the role is not a non-empty string of at most 64 characters.
 * - `INVALID_CONTENT`: the content is not a non-empty string (or holds a lone surrogate,
 *   which cannot be stored as UTF-8 without changing it).
 * - `CONTENT_TOO_LARGE`: the content's UTF-8 size exceeds `maxContentBytes`.
 * - `INVALID_METADATA`: the metadata is not a plain JSON object (class instances, functions,
 *   `undefined`, non-finite numbers, bigints, symbols, cycles or nesting deeper than 32 levels).
 * - `METADATA_TOO_LARGE`: the metadata's JSON size exceeds `maxMetadataBytes`.
 * - `INVALID_EMBEDDING`: the embedding is not a non-empty `Float32Array` or `number[]` of finite
 *   numbers, or is longer than `maxEmbeddingLength`.
 * - `INVALID_ARGUMENT`: another argument is out of range, e.g. a negative `recentK` or a query
 *   that is not a string.
 * - `INVALID_OPTION`: a constructor option is out of range, e.g. `hotWindowSize: 0` or a key
 *   prefix holding `{`, `}` or a glob character.
 * - `ARCHIVE_FAILED`: the archive (the log of record) could not store or read the session;
 *   for `addMessage` this means the message was NOT acknowledged. The archive's error is the `cause`.
 * - `ABORTED`: `addMessage`/`addMessages` was given up through its `signal` before its
 *   messages were stored; nothing of it was stored. The signal's reason is the `cause`.
 */
export type SessionWindowErrorCode =
  | 'INVALID_SESSION_ID'
  | 'INVALID_ROLE'
  | 'INVALID_CONTENT'
  | 'CONTENT_TOO_LARGE'
  | 'INVALID_METADATA'
  | 'METADATA_TOO_LARGE'
  | 'INVALID_EMBEDDING'
  | 'INVALID_ARGUMENT'
  | 'INVALID_OPTION'
  | 'ARCHIVE_FAILED'
  | 'ABORTED';

/** The one error type of `@lix/session-window`: bad input, bad options and archive failures. */
export class SessionWindowError extends LixError<SessionWindowErrorCode> {
  override name = 'SessionWindowError';
}

/** True when `error` is a {@link SessionWindowError} (optionally with the given code). */
export function isSessionWindowError(error: unknown, code?: SessionWindowErrorCode): error is SessionWindowError {
  return error instanceof SessionWindowError && (code === undefined || error.code === code);
}
