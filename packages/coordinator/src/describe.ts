// Shared by config validation and option checks; no imports, so config.ts can use it without a cycle.
/**
 * A value for an error message. `String()` throws on objects without a prototype and
 * `JSON.stringify` on BigInts and cycles; a message must never turn a ConfigError into a
 * TypeError.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'function') return 'a function';
  try {
    return String(value);
  } catch {
    return typeof value;
  }
}
