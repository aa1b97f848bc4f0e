import { MAX_SESSION_ID_LENGTH, sessionIdProblem } from '@lix/core';
import { ArchiveError } from './errors.js';

/**
 * The longest session id any lix-cache layer accepts, in UTF-16 code units: the one limit
 * of `@lix/core`, re-exported here for the stores and for callers of earlier releases.
 */
export { MAX_SESSION_ID_LENGTH };

/** A short, safe description of a bad value for error messages (the kernel's). */
export { describeValue } from '@lix/core';

/**
 * Throws `ArchiveError('INVALID_SESSION_ID')` unless `id` is a non-empty string of at most
 * {@link MAX_SESSION_ID_LENGTH} code units that is well-formed UTF-16 (`@lix/core`'s rule,
 * shared by every layer). Any other Unicode is fine (non-BMP too); a lone surrogate is
 * refused because UTF-8 storage would turn it into U+FFFD and two ids would then name one session.
 */
export function assertValidSessionId(id: unknown): asserts id is string {
  const problem = sessionIdProblem(id);
  if (problem !== undefined) throw new ArchiveError('INVALID_SESSION_ID', problem);
}
