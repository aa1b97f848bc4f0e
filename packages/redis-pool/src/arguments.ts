import { KVError } from './errors.js';

// Argument checks shared by every driver, so a bad argument is the same INVALID_ARGUMENT
// whichever driver runs the command (and never a TypeError from inside a client library).

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
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
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new KVError('INVALID_ARGUMENT', `${name} must be an object, got ${kind(value)}`);
  return value;
}
