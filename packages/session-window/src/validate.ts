import { describeValue as describe, errorText, isPlainObject, readOptions } from '@lix/core';
import { assertValidSessionId, MAX_SESSION_ID_LENGTH } from '@lix/archive';
import { SessionWindowError } from './errors.js';
import type { Clock, Logger } from '@lix/redis-pool';
import type { JsonObject } from './types.js';

/** Limits applied by {@link validateMessage}. */
export interface MessageLimits {
  maxContentBytes: number;
  maxMetadataBytes: number;
  maxEmbeddingLength: number;
}

const MAX_ROLE_LENGTH = 64;
const MAX_METADATA_DEPTH = 32;
const encoder = new TextEncoder();
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Throws `INVALID_SESSION_ID` unless `sessionId` is what every lix-cache layer accepts:
 * `@lix/archive`'s one definition (a non-empty string of at most
 * `MAX_SESSION_ID_LENGTH` = 512 characters, well-formed Unicode), so no id passes the
 * window and is then refused by the archive.
 */
export function validateSessionId(sessionId: unknown): asserts sessionId is string {
  try {
    assertValidSessionId(sessionId);
  } catch (error) {
    throw new SessionWindowError('INVALID_SESSION_ID', `${errorText(error)} (limit MAX_SESSION_ID_LENGTH = ${MAX_SESSION_ID_LENGTH})`, { cause: error });
  }
}

/** Names a value for an error message, never throwing: the kernel's rule, shared by every layer. */
export { describe, errorText };

/**
 * Throws `INVALID_OPTION` naming every key of `options` that is not in `allowed`: a
 * misspelt option (`hotWindowsize`) would otherwise be ignored silently.
 */
export function checkOptionKeys(what: string, options: object, allowed: readonly string[]): void {
  let keys: string[];
  try {
    keys = Object.keys(options);
  } catch (error) {
    throw new SessionWindowError('INVALID_OPTION', `${what}: the options object cannot be read`, { cause: error });
  }
  const unknown = keys.filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new SessionWindowError(
      'INVALID_OPTION',
      `${what}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')} (known: ${allowed.join(', ')})`,
    );
  }
}

function checkJson(value: unknown, path: string, depth: number, seen: Set<object>): void {
  if (depth > MAX_METADATA_DEPTH) {
    throw new SessionWindowError('INVALID_METADATA', `metadata is nested deeper than ${MAX_METADATA_DEPTH} levels at ${path}`);
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SessionWindowError('INVALID_METADATA', `metadata holds a non-finite number at ${path}`);
    return;
  }
  if (typeof value === 'object') {
    if (seen.has(value)) throw new SessionWindowError('INVALID_METADATA', `metadata holds a cycle at ${path}`);
    seen.add(value);
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) checkJson(value[index], `${path}[${index}]`, depth + 1, seen);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) checkJson(value[key], `${path}.${key}`, depth + 1, seen);
    } else {
      throw new SessionWindowError('INVALID_METADATA', `metadata must hold only JSON values; ${path} is ${describe(value)}`);
    }
    seen.delete(value);
    return;
  }
  throw new SessionWindowError('INVALID_METADATA', `metadata must hold only JSON values; ${path} is ${typeof value}`);
}

/** Checks metadata is a plain JSON object within the size limit; returns it (or `{}` when absent). */
export function validateMetadata(metadata: unknown, maxMetadataBytes: number): JsonObject {
  if (metadata === undefined || metadata === null) return {};
  if (!isPlainObject(metadata)) {
    throw new SessionWindowError('INVALID_METADATA', `metadata must be a plain JSON object (got ${describe(metadata)})`);
  }
  checkJson(metadata, 'metadata', 0, new Set());
  const size = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (size > maxMetadataBytes) {
    throw new SessionWindowError('METADATA_TOO_LARGE', `metadata is ${size} bytes of JSON; the limit (maxMetadataBytes) is ${maxMetadataBytes}`);
  }
  return metadata as JsonObject;
}

/** Checks an embedding and returns it as a `Float32Array` (or `undefined` when absent). */
export function validateEmbedding(embedding: unknown, maxEmbeddingLength: number): Float32Array | undefined {
  if (embedding === undefined || embedding === null) return undefined;
  let vector: Float32Array;
  if (embedding instanceof Float32Array) vector = embedding;
  else if (Array.isArray(embedding)) {
    if (!embedding.every((x) => typeof x === 'number')) {
      throw new SessionWindowError('INVALID_EMBEDDING', 'an embedding given as an array must hold only numbers');
    }
    vector = Float32Array.from(embedding as number[]);
  } else {
    throw new SessionWindowError('INVALID_EMBEDDING', `an embedding must be a Float32Array or number[] (got ${describe(embedding)})`);
  }
  if (vector.length === 0) throw new SessionWindowError('INVALID_EMBEDDING', 'an embedding must not be empty');
  if (vector.length > maxEmbeddingLength) {
    throw new SessionWindowError('INVALID_EMBEDDING', `an embedding has ${vector.length} dimensions; the limit (maxEmbeddingLength) is ${maxEmbeddingLength}`);
  }
  for (let index = 0; index < vector.length; index++) {
    if (!Number.isFinite(vector[index])) {
      throw new SessionWindowError('INVALID_EMBEDDING', `an embedding holds a non-finite value at index ${index} (or a number too large for float32)`);
    }
  }
  return vector;
}

/** Validated input of `addMessage`. */
export interface ValidMessage {
  role: string;
  content: string;
  metadata: JsonObject;
  embedding: Float32Array | undefined;
}

/** Validates every argument of `addMessage`, throwing a {@link SessionWindowError} with the matching code. */
export function validateMessage(role: unknown, content: unknown, metadata: unknown, embedding: unknown, limits: MessageLimits): ValidMessage {
  if (typeof role !== 'string' || role.trim().length === 0 || role.length > MAX_ROLE_LENGTH) {
    throw new SessionWindowError('INVALID_ROLE', `role must be a non-blank string of at most ${MAX_ROLE_LENGTH} characters (got ${describe(role)})`);
  }
  if (typeof content !== 'string' || content.length === 0) {
    throw new SessionWindowError('INVALID_CONTENT', `content must be a non-empty string (got ${describe(content)})`);
  }
  // Cheap bound first: a UTF-16 string never takes fewer UTF-8 bytes than it has code units / 1.
  if (content.length > limits.maxContentBytes || encoder.encode(content).length > limits.maxContentBytes) {
    throw new SessionWindowError(
      'CONTENT_TOO_LARGE',
      `content is ${Buffer.byteLength(content, 'utf8')} bytes of UTF-8; the limit (maxContentBytes) is ${limits.maxContentBytes}`,
    );
  }
  if (loneSurrogate.test(content) || loneSurrogate.test(role)) {
    throw new SessionWindowError('INVALID_CONTENT', 'role and content must be well-formed Unicode (a lone surrogate would be altered by UTF-8 storage)');
  }
  return {
    role,
    content,
    metadata: validateMetadata(metadata, limits.maxMetadataBytes),
    embedding: validateEmbedding(embedding, limits.maxEmbeddingLength),
  };
}

/** Throws `INVALID_OPTION` unless `value` is an integer in [min, max]. */
export function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SessionWindowError('INVALID_OPTION', `${name} must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/** Throws `INVALID_ARGUMENT` unless `value` is an integer in [min, max]. */
export function integerArgument(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SessionWindowError('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/** Throws `INVALID_OPTION` unless `logger` is absent or an object whose present methods are functions. */
export function loggerOption(logger: unknown): Logger | undefined {
  if (logger === undefined || logger === null) return undefined;
  const valid =
    typeof logger === 'object' &&
    (['debug', 'info', 'warn', 'error'] as const).every((level) => {
      const method = (logger as Record<string, unknown>)[level];
      return method === undefined || typeof method === 'function';
    });
  if (!valid) throw new SessionWindowError('INVALID_OPTION', 'logger must be an object with optional debug/info/warn/error functions');
  return logger as Logger;
}

/** Throws `INVALID_OPTION` unless `clock` is absent or has a `now()` function. */
export function clockOption(clock: unknown): Clock | undefined {
  if (clock === undefined || clock === null) return undefined;
  if (typeof clock !== 'object' || typeof (clock as { now?: unknown }).now !== 'function') {
    throw new SessionWindowError('INVALID_OPTION', 'clock must be an object with a now() function returning unix ms');
  }
  return clock as Clock;
}

/** Reads a plain object argument with only the `known` keys; anything else is `INVALID_ARGUMENT`, naming the unknown key. */
export function readObject(value: unknown, where: string, known: readonly string[], expected: string): Record<string, unknown> {
  const read = readOptions(where, value, known);
  if (read.ok) return read.options;
  const { problem } = read;
  if (problem.kind === 'not-an-object') throw new SessionWindowError('INVALID_ARGUMENT', `${where} must be ${expected} (got ${describe(value)})`);
  if (problem.kind === 'unknown-keys')
    throw new SessionWindowError('INVALID_ARGUMENT', `${where} has the unknown key ${problem.keys.map((key) => `"${key}"`).join(', ')}`);
  throw new SessionWindowError('INVALID_ARGUMENT', `${where} could not be read`, { cause: problem.cause });
}
