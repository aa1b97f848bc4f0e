import { isPlainObject } from '@lix/core';
import { ArchiveError } from './errors.js';
import { describeValue } from './session-id.js';

/** Deepest metadata nesting accepted: deeper values are refused instead of recursing without bound. */
export const MAX_METADATA_DEPTH = 64;

/** True for `{}`-style objects; the kernel's check, false for Proxies whose traps throw. */
export { isPlainObject };

/** Throws `INVALID_ARGUMENT` naming every key of `options` that is not in `known`. */
export function checkOptionKeys(what: string, options: unknown, known: readonly string[]): asserts options is Record<string, unknown> {
  if (!isPlainObject(options)) throw new ArchiveError('INVALID_ARGUMENT', `${what} options must be a plain object, got ${describeValue(options)}`);
  let keys: string[];
  try {
    keys = Object.keys(options);
  } catch (error) {
    throw new ArchiveError('INVALID_ARGUMENT', `${what} options cannot be listed (a Proxy whose trap throws?)`, { cause: error });
  }
  const unknown = keys.filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new ArchiveError(
      'INVALID_ARGUMENT',
      `unknown ${what} option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known options: ${known.join(', ')}`,
    );
  }
}

/**
 * Checks the keys of `options` and copies the known ones into a fresh plain object, read once
 * each: a getter or Proxy trap that throws is `INVALID_ARGUMENT`, and a value cannot change
 * between its check and its use.
 */
export function snapshotOptions<T extends object>(what: string, options: unknown, known: readonly (keyof T & string)[]): Partial<T> {
  checkOptionKeys(what, options, known);
  const out: Record<string, unknown> = {};
  for (const key of known) {
    let value: unknown;
    try {
      value = options[key];
    } catch (error) {
      throw new ArchiveError('INVALID_ARGUMENT', `${what} option ${key} cannot be read (a getter or Proxy trap threw)`, { cause: error });
    }
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<T>;
}

/**
 * Checks that metadata is JSON-like (null, booleans, finite numbers, strings, arrays and
 * plain objects), acyclic and at most {@link MAX_METADATA_DEPTH} deep: what every store can
 * keep and give back unchanged. BigInt, functions, symbols, `undefined`, NaN and class
 * instances are refused here, before they reach an encoder that would throw a TypeError.
 */
export function checkMetadata(value: unknown): void {
  const path: object[] = [];
  const visit = (node: unknown, where: string): void => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(node)) throw new ArchiveError('INVALID_TURN', `turn.metadata${where} is ${node}; only finite numbers are stored`);
        return;
      case 'object': {
        if (node === null) return;
        if (path.includes(node)) throw new ArchiveError('INVALID_TURN', `turn.metadata${where} refers back to itself (a cycle)`);
        if (path.length >= MAX_METADATA_DEPTH) throw new ArchiveError('INVALID_TURN', `turn.metadata is nested deeper than ${MAX_METADATA_DEPTH} levels`);
        path.push(node);
        if (Array.isArray(node)) node.forEach((item, index) => visit(item, `${where}[${index}]`));
        else if (isPlainObject(node)) for (const [key, item] of Object.entries(node)) visit(item, `${where}.${key}`);
        else throw new ArchiveError('INVALID_TURN', `turn.metadata${where} is a ${node.constructor?.name ?? 'non-plain object'}; use plain objects and arrays`);
        path.pop();
        return;
      }
      default:
        throw new ArchiveError('INVALID_TURN', `turn.metadata${where} is a ${typeof node}, which cannot be stored`);
    }
  };
  if (!isPlainObject(value)) throw new ArchiveError('INVALID_TURN', `turn.metadata must be a plain object, got ${describeValue(value)}`);
  visit(value, '');
}

/** A non-negative safe integer argument, else `INVALID_ARGUMENT`. */
export function checkCount(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ArchiveError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${typeof value === 'number' ? value : describeValue(value)}`);
  }
  return value;
}

/** Turns an iterable of turns into an array, else `INVALID_ARGUMENT`. */
export function toTurnArray<T>(turns: unknown): T[] {
  if (Array.isArray(turns)) return turns as T[];
  if (turns !== null && typeof turns === 'object' && typeof (turns as Iterable<T>)[Symbol.iterator] === 'function') {
    try {
      return Array.from(turns as Iterable<T>);
    } catch (error) {
      throw new ArchiveError('INVALID_ARGUMENT', 'iterating turns threw', { cause: error });
    }
  }
  throw new ArchiveError('INVALID_ARGUMENT', `turns must be an array (or iterable) of turns, got ${describeValue(turns)}`);
}

/** A query vector: a Float32Array or an array of finite numbers, else `INVALID_ARGUMENT`. */
export function toQueryVector(vector: unknown): Float32Array {
  if (vector instanceof Float32Array) {
    if (!vector.every((x) => Number.isFinite(x))) throw new ArchiveError('INVALID_ARGUMENT', 'vector holds a non-finite number');
    return vector;
  }
  if (Array.isArray(vector) && vector.every((x) => typeof x === 'number' && Number.isFinite(x))) return Float32Array.from(vector as number[]);
  throw new ArchiveError('INVALID_ARGUMENT', `vector must be a Float32Array or an array of finite numbers, got ${describeValue(vector)}`);
}
