/**
 * The codes several packages raise for the same kind of failure, with what each means.
 * A package's own code union is these (those that apply to it) plus its own; a code of
 * this table means the same thing in every package.
 *
 * Two historical spellings stay for compatibility, since a code is never renamed:
 * `@lix/redis-pool` says `CLIENT_CLOSED` for {@link SHARED_ERROR_CODES.CLOSED}, and
 * `@lix/coordinator` says `INVALID_VALUE` for a setting that fails {@link SHARED_ERROR_CODES.INVALID_OPTION}'s check.
 */
export const SHARED_ERROR_CODES = {
  /** A call argument is malformed: wrong type, out of range, too large. */
  INVALID_ARGUMENT: 'a call argument is malformed (wrong type, out of range, too large)',
  /** An options object is not a plain object, holds an unknown key (a typo) or a bad value. */
  INVALID_OPTION: 'an options object is not a plain object, holds an unknown key or a value out of range',
  /** A session id that is empty, not a string, longer than the limit, or not well-formed Unicode. */
  INVALID_SESSION_ID: 'a session id is empty, not a string, too long, or not well-formed Unicode',
  /** An embedding that is empty, too long, holds NaN/Infinity, or is not numbers. */
  INVALID_EMBEDDING: 'an embedding is empty, too long, holds non-finite components, or is not numbers',
  /** The object was closed; it accepts no further calls. */
  CLOSED: 'the object was closed and accepts no further calls',
  /** A call did not finish within its configured time. */
  TIMEOUT: 'a call did not finish within its configured time',
  /** A call was given up through its `AbortSignal` before it had any effect: nothing was stored. */
  ABORTED: 'a call was given up through its AbortSignal before it had any effect (nothing was stored)',
} as const;

/** A code of {@link SHARED_ERROR_CODES}. */
export type SharedErrorCode = keyof typeof SHARED_ERROR_CODES;
