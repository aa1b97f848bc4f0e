import { describeValue } from './backend.js';
import { createHash } from 'node:crypto';
import { SemanticCacheError } from './errors.js';

/** Default first segment of every key. */
export const DEFAULT_KEY_PREFIX = 'lix';

/** URLs longer than this (UTF-8 bytes) are stored in the URL embedding cache under their SHA-256. */
export const MAX_RAW_URL_BYTES = 256;

// Glob metacharacters and braces are excluded so a prefix can sit in SCAN patterns and
// never opens a cluster hash tag of its own.
const PREFIX_PATTERN = /^[A-Za-z0-9_.:\-/]{1,64}$/;
const RAW_SESSION_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Validates a key prefix (1–64 chars of `A-Z a-z 0-9 _ . : - /`). */
export function checkKeyPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new SemanticCacheError('INVALID_OPTION', `keyPrefix must be 1-64 characters of A-Z a-z 0-9 _ . : - /, got ${describeValue(prefix)}.`);
  }
  return prefix;
}

/** Validates a URL argument. */
export function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0) {
    throw new SemanticCacheError('INVALID_URL', `The URL must be a non-empty string, got ${url === '' ? 'an empty string' : typeof url}.`);
  }
  return url;
}

/**
 * The session segment: ids made of `A-Z a-z 0-9 _ . -` (up to 128) are kept readable;
 * anything else becomes `~` + 32 hex digits of its SHA-256, so no id can inject glob
 * characters or braces, and the `~` keeps hashed and raw ids apart.
 */
export function sessionSegment(sessionId: string): string {
  return RAW_SESSION_PATTERN.test(sessionId) ? sessionId : `~${sha256Hex(sessionId).slice(0, 32)}`;
}

/** 32 hex digits (128 bits) of the URL's SHA-256: bounded, brace-free, collision-safe in practice. */
export function urlDigest(url: string): string {
  return sha256Hex(url).slice(0, 32);
}

/** Keys of one semantic-cache scope; both share one hash tag, hence one cluster slot. */
export interface ScopeKeys {
  /** String: header + fixed-size records (expiry, id, unit float32 vector). */
  vectors: string;
  /** Hash: entry id → msgpack response, `m<id>` → the entry's expiry mode and tags; field `#` is the id counter. */
  responses: string;
  /** Hash: tag → generation of its last invalidation in this scope (refuses in-flight writes with the old tag). */
  tombstones: string;
}

/** The hash-tag content naming a scope: `s=<session>` or `shared`, then `|` and the URL digest. */
export function scopeTag(scope: 'session' | 'shared', sessionId: string, url: string): string {
  const owner = scope === 'shared' ? 'shared' : `s=${sessionSegment(sessionId)}`;
  return `${owner}|${urlDigest(url)}`;
}

/** `<prefix>:sc:{<tag>}:v` and `…:r`. */
export function scopeKeys(prefix: string, scope: 'session' | 'shared', sessionId: string, url: string): ScopeKeys {
  const base = `${prefix}:sc:{${scopeTag(scope, sessionId, url)}}`;
  return { vectors: `${base}:v`, responses: `${base}:r`, tombstones: `${base}:x` };
}

/** SCAN pattern matching the vector keys of every URL in one scope owner (a session, or the shared scope). */
export function scopeScanPattern(prefix: string, scope: 'session' | 'shared', sessionId: string): string {
  const owner = scope === 'shared' ? 'shared' : `s=${sessionSegment(sessionId)}`;
  return `${prefix}:sc:{${owner}|*}:v`;
}

/** Turns a vector key found by SCAN into its response key. */
export function responsesKeyOf(vectorsKey: string): string {
  return `${vectorsKey.slice(0, -2)}:r`;
}

/** Turns a vector key (as a tag index holds it) into the keys of its scope. */
export function scopeKeysOf(vectorsKey: string): ScopeKeys {
  const base = vectorsKey.slice(0, -2);
  return { vectors: vectorsKey, responses: `${base}:r`, tombstones: `${base}:x` };
}

/**
 * Validates and encodes an embedding-model id for keys: URI-encoded, so `:` inside an id
 * cannot shift the segments that follow.
 */
export function modelSegment(modelId: unknown): string {
  if (typeof modelId !== 'string' || modelId.length === 0 || modelId.length > 200) {
    throw new SemanticCacheError('INVALID_OPTION', 'modelId must be a non-empty string of at most 200 characters (e.g. "all-MiniLM-L6-v2").');
  }
  try {
    return encodeURIComponent(modelId);
  } catch (cause) {
    // A lone surrogate cannot be percent-encoded (URIError): not a usable model id.
    throw new SemanticCacheError('INVALID_OPTION', 'modelId must be well-formed text (it contains a lone UTF-16 surrogate).', { cause });
  }
}

/**
 * `<prefix>:ue:<model>:u:<url>` for URLs up to {@link MAX_RAW_URL_BYTES} bytes (readable in
 * redis-cli), `<prefix>:ue:<model>:h:<sha256 hex>` for longer ones, so keys stay bounded.
 */
export function urlEmbeddingKey(prefix: string, model: string, url: string): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short URLs skip measuring.
  return url.length * 3 <= MAX_RAW_URL_BYTES || Buffer.byteLength(url, 'utf8') <= MAX_RAW_URL_BYTES
    ? `${prefix}:ue:${model}:u:${url}`
    : `${prefix}:ue:${model}:h:${sha256Hex(url)}`;
}
