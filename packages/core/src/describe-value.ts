/**
 * Names a value for an error message, never throwing and never echoing a long or secret
 * value: `String()` throws on null-prototype objects and throwing `toString`s,
 * `JSON.stringify` on BigInts and cycles, and `Array.isArray` on revoked Proxies; a message
 * must never be why a validation ends in a TypeError instead of the typed error.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `the bigint ${value.toString()}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return describeObject(value);
  }
}

function describeObject(value: object): string {
  try {
    if (Array.isArray(value)) return 'an array';
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
    if (proto === null) return 'a null-prototype object';
    if (proto === Object.prototype) return 'an object';
    const name = proto.constructor?.name;
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
  } catch {
    // A Proxy whose trap throws, or a revoked one.
    return 'an object';
  }
}

/**
 * Like {@link describeValue}, but shows a string as itself (JSON-quoted, cut at 80
 * characters): for configuration values, where `REDIS_PORT="abc"` says more than "a string
 * of 3 characters" and nothing secret is expected.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return describeValue(value);
}

/** The message of a caught error for wrapping it in another; never throws. */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
  } catch {
    return describeValue(error);
  }
  if (typeof error === 'string') return error;
  return describeValue(error);
}
