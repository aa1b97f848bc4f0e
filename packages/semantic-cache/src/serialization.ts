import { Packr } from 'msgpackr';
import { SemanticCacheError } from './errors.js';

// Plain msgpack (no record extension): entries written by one process must decode in any
// other, and shared structure tables would make a value depend on the writer's history.
const packr = new Packr({ useRecords: false, moreTypes: true });

/** Deepest nesting a response may have; deeper values are refused instead of overflowing the stack. */
export const MAX_RESPONSE_DEPTH = 64;

function refuse(path: string, what: string): SemanticCacheError {
  return new SemanticCacheError(
    'UNSERIALIZABLE_RESPONSE',
    `The response cannot be cached: ${what} at ${path}. Cache plain data (objects, arrays, strings, numbers, booleans, dates, bytes).`,
  );
}

/**
 * msgpackr silently writes functions as nil and throws a bare RangeError on cycles, so
 * walk the value first and name the offending path.
 */
function checkSerializable(value: unknown, path: string, depth: number, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'function':
      throw refuse(path, 'a function');
    case 'symbol':
      throw refuse(path, 'a symbol');
    case 'object': {
      if (value === null) return;
      if (depth > MAX_RESPONSE_DEPTH) throw refuse(path, `nesting deeper than ${MAX_RESPONSE_DEPTH} levels`);
      if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof ArrayBuffer) return;
      if (ancestors.has(value)) throw refuse(path, 'a circular reference');
      if (value instanceof WeakMap || value instanceof WeakSet || value instanceof Promise) throw refuse(path, `a ${value.constructor.name}`);
      ancestors.add(value);
      if (value instanceof Map) {
        for (const [key, item] of value) {
          checkSerializable(key, `${path}<key>`, depth + 1, ancestors);
          checkSerializable(item, `${path}.get(${String(key)})`, depth + 1, ancestors);
        }
      } else if (value instanceof Set) {
        for (const item of value) checkSerializable(item, `${path}<member>`, depth + 1, ancestors);
      } else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkSerializable(value[i], `${path}[${i}]`, depth + 1, ancestors);
      } else {
        for (const key of Object.keys(value)) checkSerializable((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, ancestors);
      }
      ancestors.delete(value);
      return;
    }
    default:
      return;
  }
}

/** Serialises a response with msgpack, refusing what would not come back as it went in. */
export function encodeResponse(response: unknown, maxBytes: number): Uint8Array {
  if (response === undefined || response === null) {
    throw new SemanticCacheError(
      'UNSERIALIZABLE_RESPONSE',
      `The response is ${String(response)}; get() returns null for a miss, so a cached null would be indistinguishable.`,
    );
  }
  checkSerializable(response, 'response', 0, new Set());
  let bytes: Uint8Array;
  try {
    bytes = packr.pack(response);
  } catch (error) {
    throw new SemanticCacheError(
      'UNSERIALIZABLE_RESPONSE',
      `msgpack could not serialise the response: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (bytes.length > maxBytes) {
    throw new SemanticCacheError('RESPONSE_TOO_LARGE', `The serialised response is ${bytes.length} bytes; maxResponseBytes is ${maxBytes}.`);
  }
  // Copy out of msgpackr's reusable buffer: the caller keeps the bytes beyond the next pack().
  return new Uint8Array(bytes);
}

/** Decodes a stored response; `CORRUPT_ENTRY` when the bytes are not msgpack. */
export function decodeResponse<T>(bytes: Uint8Array): T {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new SemanticCacheError('CORRUPT_ENTRY', `A stored response is not valid msgpack: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  // set() never stores null or undefined, so decoding to one means the bytes are not ours.
  if (value === undefined || value === null)
    throw new SemanticCacheError('CORRUPT_ENTRY', 'A stored response decodes to nothing; it was not written by SemanticCache.');
  return value as T;
}
