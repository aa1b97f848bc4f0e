import { LixError } from '@lix/core';

/**
 * Stable codes of {@link SemanticCacheError}.
 *
 * - `INVALID_OPTION`: a constructor option or per-call option is out of range.
 * - `INVALID_URL`: the URL is not a non-empty string.
 * - `INVALID_EMBEDDING`: empty, too long, NaN/infinite components, or a zero vector.
 * - `DIMENSION_MISMATCH`: the embedding's length differs from the live entries stored in that scope.
 * - `UNSERIALIZABLE_RESPONSE`: the response cannot be stored as msgpack (functions, symbols, cycles, `null`/`undefined`).
 * - `RESPONSE_TOO_LARGE`: the serialised response exceeds `maxResponseBytes`.
 * - `CORRUPT_ENTRY`: what Redis holds under one of our keys is not in our format.
 * - `BACKEND_ERROR`: the driver failed (the `KVError` is the `cause`). Raised only with
 *   `onBackendError: 'throw'`, by `clearSession()`, or when the driver refused an argument
 *   (`INVALID_ARGUMENT`, a bug); by default a backend failure is a miss or a skipped write.
 * - `INVALID_TAG`: a tag is not a 1–256-character string, too many tags, or an empty tag list to invalidate.
 * - `INVALID_EXAMPLE`: a calibration example is unlabelled, labelled twice, or malformed.
 */
export type SemanticCacheErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_URL'
  | 'INVALID_EMBEDDING'
  | 'DIMENSION_MISMATCH'
  | 'UNSERIALIZABLE_RESPONSE'
  | 'RESPONSE_TOO_LARGE'
  | 'CORRUPT_ENTRY'
  | 'BACKEND_ERROR'
  | 'INVALID_TAG'
  | 'INVALID_EXAMPLE';

/** The one error type of `@lix/semantic-cache`; `code` is stable, `cause` keeps the underlying error. */
export class SemanticCacheError extends LixError<SemanticCacheErrorCode> {
  override name = 'SemanticCacheError';
}

/** True when `error` is a {@link SemanticCacheError} (optionally with the given code). */
export function isSemanticCacheError(error: unknown, code?: SemanticCacheErrorCode): error is SemanticCacheError {
  return error instanceof SemanticCacheError && (code === undefined || error.code === code);
}

/** Wraps a driver failure so callers catch one error class; the original stays as `cause`. */
export function backendError(operation: string, error: unknown): SemanticCacheError {
  if (error instanceof SemanticCacheError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new SemanticCacheError('BACKEND_ERROR', `${operation} failed in the KV driver: ${detail}`, { cause: error });
}
