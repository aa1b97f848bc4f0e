import { HuffmanError } from './errors.js';

/**
 * A value for an error message. `String()` throws on objects without a prototype and
 * `JSON.stringify` on BigInts and cycles; a message must never turn a typed error into a
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

/**
 * `undefined`, or a plain options object whose keys are all in `known`: a misspelt
 * option would otherwise be ignored and the default used without a word.
 */
export function checkOptions(options: unknown, known: readonly string[], owner: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new HuffmanError('INVALID_ARGUMENT', `${owner} options must be an object when given, got ${describeValue(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new HuffmanError('INVALID_ARGUMENT', `${owner} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}.`);
    }
  }
}
