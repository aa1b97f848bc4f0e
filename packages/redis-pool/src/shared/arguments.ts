import { KVError } from './errors.js';

// Argument checks shared by every driver, so a bad argument is the same INVALID_ARGUMENT
// whichever driver runs the command (and never a TypeError from inside a client library).

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/** Throws `INVALID_ARGUMENT` unless `signal` is absent or an `AbortSignal`; returns it. */
export function signalArg(signal: unknown, what: string): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) throw new KVError('INVALID_ARGUMENT', `${what} signal must be an AbortSignal`);
  return signal;
}

/** Throws the reason of an aborted signal. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** A key: a string. */
export function keyArg(key: string): string {
  if (typeof key !== 'string') throw new KVError('INVALID_ARGUMENT', `key must be a string, got ${kind(key)}`);
  return key;
}

/** An array argument, checked before anything reads its length or maps it. */
export function arrayArg<T>(value: readonly T[], name: string): readonly T[] {
  if (!Array.isArray(value)) throw new KVError('INVALID_ARGUMENT', `${name} must be an array, got ${kind(value)}`);
  return value;
}

/** An array of keys. */
export function keyList(keys: readonly string[], name = 'keys'): string[] {
  return arrayArg(keys, name).map(keyArg);
}

/** A string argument (a hash field, a sorted-set member). */
export function stringArg(value: string, name: string): string {
  if (typeof value !== 'string') throw new KVError('INVALID_ARGUMENT', `${name} must be a string, got ${kind(value)}`);
  return value;
}

/** An options object (or nothing); anything else is a caller's mistake, not a default. */
export function optionsArg<T extends object>(value: T | undefined, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new KVError('INVALID_ARGUMENT', `${name} must be an object, got ${kind(value)}`);
  return value;
}

/**
 * A value for an error message. `String()` and `JSON.stringify` both throw on some values
 * (objects without a prototype, BigInts, cycles), and a message must never be why a
 * validation fails with a TypeError instead of the typed error.
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
 * Rejects anything but a plain options object, and keys it does not know: a misspelt
 * option (`comandTimeoutMs`) would otherwise be ignored without a word.
 */
export function checkOptionsObject(options: unknown, known: readonly string[], owner: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new KVError('INVALID_ARGUMENT', `${owner} takes an options object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new KVError('INVALID_ARGUMENT', `${owner} has no option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
  }
}
