/**
 * True for `{…}` literals and `Object.create(null)`: what options objects and JSON
 * metadata must be. Class instances, arrays, and Proxies whose `getPrototypeOf` trap throws
 * (or revoked ones) are not plain.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  try {
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  } catch {
    return false;
  }
}

/** What {@link readOptions} found wrong, for the caller to throw as its own typed error. */
export type OptionsProblem =
  | { kind: 'not-an-object'; message: string }
  | { kind: 'unknown-keys'; keys: string[]; message: string }
  | { kind: 'unreadable'; message: string; cause: unknown };

/**
 * Copies the own enumerable properties of an options object into a fresh plain object,
 * checking that it is one and that every key is known. Reading once, up front, means a
 * Proxy with throwing traps or a getter that changes between reads cannot make the caller
 * fail with a raw TypeError halfway through; `undefined` counts as `{}`.
 */
export function readOptions(
  what: string,
  options: unknown,
  known: readonly string[] | ReadonlySet<string>,
): { ok: true; options: Record<string, unknown> } | { ok: false; problem: OptionsProblem } {
  if (options === undefined) return { ok: true, options: {} };
  if (!isPlainObject(options)) {
    return { ok: false, problem: { kind: 'not-an-object', message: `${what} takes a plain options object` } };
  }
  const isKnown = Array.isArray(known) ? (key: string) => known.includes(key) : (key: string) => (known as ReadonlySet<string>).has(key);
  const copy: Record<string, unknown> = {};
  try {
    const unknownKeys = Object.keys(options).filter((key) => !isKnown(key));
    if (unknownKeys.length > 0) {
      const list = [...known].join(', ');
      const named = unknownKeys.map((key) => JSON.stringify(key)).join(', ');
      return {
        ok: false,
        problem: {
          kind: 'unknown-keys',
          keys: unknownKeys,
          message: `unknown ${what} option${unknownKeys.length > 1 ? 's' : ''} ${named}; known options: ${list}`,
        },
      };
    }
    for (const key of Object.keys(options)) copy[key] = options[key];
  } catch (cause) {
    return { ok: false, problem: { kind: 'unreadable', message: `${what} options could not be read`, cause } };
  }
  return { ok: true, options: copy };
}
