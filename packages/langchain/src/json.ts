import type { JsonObject, JsonValue } from '@lix/session-window';
import { LixLangChainError } from './errors.js';

const MAX_DEPTH = 32;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function refuse(path: string, what: string): LixLangChainError {
  return new LixLangChainError(
    'INVALID_MESSAGE',
    `${path} is ${what}; LangChain messages are stored as JSON, so only plain objects, arrays, strings, finite numbers, booleans and null can be kept.`,
  );
}

function copy(value: unknown, path: string, depth: number, ancestors: Set<object>): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw refuse(path, String(value));
    return value;
  }
  if (typeof value !== 'object') throw refuse(path, `a ${typeof value}`);
  if (depth > MAX_DEPTH) throw refuse(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (ancestors.has(value)) throw refuse(path, 'a circular reference');
  ancestors.add(value);
  let out: JsonValue;
  if (Array.isArray(value)) {
    out = value.map((item, index) => copy(item, `${path}[${index}]`, depth + 1, ancestors));
  } else if (isPlainObject(value)) {
    const object: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      // An absent optional field (`name: undefined`) is how LangChain's toDict() says "not set".
      if (item !== undefined) object[key] = copy(item, `${path}.${key}`, depth + 1, ancestors);
    }
    out = object;
  } else {
    throw refuse(path, `an instance of ${value.constructor?.name ?? 'a class'}`);
  }
  ancestors.delete(value);
  return out;
}

/**
 * A JSON copy of `value`, refusing (`INVALID_MESSAGE`) what JSON would silently change:
 * functions, symbols, bigints, non-finite numbers, class instances (dates, maps), cycles.
 * Object properties set to `undefined` are dropped, as JSON.stringify does.
 */
export function toJsonObject(value: object, path: string): JsonObject {
  const out = copy(value, path, 0, new Set());
  if (out === null || typeof out !== 'object' || Array.isArray(out)) throw refuse(path, 'not an object');
  return out;
}
