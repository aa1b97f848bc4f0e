import { LixError } from '@lix/core';

/**
 * Stable codes of {@link ArchiveError}.
 *
 * - `INVALID_SESSION_ID`: empty, not a string, too long, or not well-formed UTF-16.
 * - `INVALID_TURN`: a turn without a string role/content, bad timestamp, metadata that
 *   is not a plain object, or an embedding that is not numbers.
 * - `INVALID_ARGUMENT`: any other bad argument (topK, n, options).
 * - `INVALID_KEY`: the encryption key is not 32 bytes.
 * - `DECRYPT_FAILED`: the data was encrypted with another key, or no key was given.
 * - `CORRUPT_FILE`: a file that cannot be read (bad magic, bad frame) where no valid
 *   prefix could be recovered.
 * - `UNSUPPORTED_VERSION`: a format version this release does not know.
 * - `LEGACY_FORMAT_ERROR`: a legacy `.huff` file that does not follow CAv1/HCv1.
 * - `LOCK_TIMEOUT`: another writer held and kept renewing the session's lock for too long.
 * - `LOCK_LOST`: this writer stalled past its lease and another took the lock over; nothing was written.
 * - `CLOSED`: the archive was closed.
 * - `ABORTED`: the append's `signal` was aborted before the append started writing (it was
 *   aborted already, or aborted while the call waited for the session's lock or a
 *   connection); nothing was stored. `cause` is the signal's `reason`.
 * - `IO_ERROR`: the file system refused an operation (kept as `cause`).
 */
export type ArchiveErrorCode =
  | 'INVALID_SESSION_ID'
  | 'INVALID_TURN'
  | 'INVALID_ARGUMENT'
  | 'INVALID_KEY'
  | 'DECRYPT_FAILED'
  | 'CORRUPT_FILE'
  | 'UNSUPPORTED_VERSION'
  | 'LEGACY_FORMAT_ERROR'
  | 'LOCK_TIMEOUT'
  | 'LOCK_LOST'
  | 'CLOSED'
  | 'ABORTED'
  | 'IO_ERROR';

/** The one error type of `@lix/archive`. */
export class ArchiveError extends LixError<ArchiveErrorCode> {
  override name = 'ArchiveError';
}

/** True when `error` is an {@link ArchiveError} (optionally with the given code). */
export function isArchiveError(error: unknown, code?: ArchiveErrorCode): error is ArchiveError {
  return error instanceof ArchiveError && (code === undefined || error.code === code);
}
