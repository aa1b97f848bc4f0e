import { ArchiveError } from './errors.js';

/**
 * The longest session id any lix-cache layer accepts, in UTF-16 code units (`id.length`).
 * Defined here once: `@lix/session-window` and every store import it, so no id is
 * accepted by one layer and refused by the next.
 */
export const MAX_SESSION_ID_LENGTH = 512;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Throws `ArchiveError('INVALID_SESSION_ID')` unless `id` is a non-empty string of at most
 * {@link MAX_SESSION_ID_LENGTH} code units that is well-formed UTF-16. Any other Unicode is
 * fine (non-BMP too); a lone surrogate is refused because UTF-8 storage would turn it into
 * U+FFFD and two ids would then name one session.
 */
export function assertValidSessionId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ArchiveError('INVALID_SESSION_ID', `session id must be a non-empty string, got ${describeValue(id)}`);
  }
  if (id.length > MAX_SESSION_ID_LENGTH) {
    throw new ArchiveError('INVALID_SESSION_ID', `session id is ${id.length} characters long; the limit is ${MAX_SESSION_ID_LENGTH}`);
  }
  if (LONE_SURROGATE.test(id)) {
    throw new ArchiveError('INVALID_SESSION_ID', 'session id contains a lone UTF-16 surrogate; pass well-formed Unicode');
  }
}

/** A short, safe description of a bad value for error messages (never the value itself). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object' && isArraySafe(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
  return typeof value;
}

// Array.isArray throws for a revoked Proxy; a message must never fail to be written.
function isArraySafe(value: object): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return false;
  }
}
