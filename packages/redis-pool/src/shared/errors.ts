import { LixError } from '@lix/core';

/**
 * Stable codes of {@link KVError}; the same failure gets the same code whichever
 * client library raised it.
 *
 * - `CONNECTION_LOST`: the server cannot be reached or the connection dropped.
 * - `TIMEOUT`: the command did not answer within the configured time.
 * - `AUTH_FAILED`: wrong password or ACL user (never retried without credentials).
 * - `WRONG_TYPE`: the key holds another type (WRONGTYPE).
 * - `SCRIPT_ERROR`: a Lua script raised an error or could not be loaded.
 * - `CROSS_SLOT`: keys of one operation hash to different cluster slots.
 * - `CLIENT_CLOSED`: the driver was closed.
 * - `CLIENT_MISSING`: the optional client library (ioredis / redis) is not installed.
 * - `INVALID_ARGUMENT`: the caller passed something the command cannot take.
 * - `COMMAND_FAILED`: any other error reply from the server.
 */
export type KVErrorCode =
  | 'CONNECTION_LOST'
  | 'TIMEOUT'
  | 'AUTH_FAILED'
  | 'WRONG_TYPE'
  | 'SCRIPT_ERROR'
  | 'CROSS_SLOT'
  | 'CLIENT_CLOSED'
  | 'CLIENT_MISSING'
  | 'INVALID_ARGUMENT'
  | 'COMMAND_FAILED';

/** The one error type of `@lix/redis-pool`: every driver failure rejects with it. */
export class KVError extends LixError<KVErrorCode> {
  override name = 'KVError';
}

/** True when `error` is a {@link KVError} (optionally with the given code). */
export function isKVError(error: unknown, code?: KVErrorCode): error is KVError {
  return error instanceof KVError && (code === undefined || error.code === code);
}
