import { describeValue } from './describe-value.js';

/**
 * The longest session id any lix-cache layer accepts, in UTF-16 code units (`id.length`).
 * Defined once here, so no id is accepted by one layer and refused by the next.
 */
export const MAX_SESSION_ID_LENGTH = 512;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `id` is not a valid session id, or `undefined` when it is: a non-empty string of at
 * most {@link MAX_SESSION_ID_LENGTH} code units that is well-formed UTF-16. Any other
 * Unicode is fine; a lone surrogate is refused because UTF-8 storage would turn it into
 * U+FFFD and two ids would then name one session. Callers throw their own typed error
 * with code `INVALID_SESSION_ID`.
 */
export function sessionIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) {
    return `session id must be a non-empty string, got ${describeValue(id)}`;
  }
  if (id.length > MAX_SESSION_ID_LENGTH) return `session id is ${id.length} characters long; the limit is ${MAX_SESSION_ID_LENGTH}`;
  if (LONE_SURROGATE.test(id)) return 'session id contains a lone UTF-16 surrogate; pass well-formed Unicode';
  return undefined;
}
