import { createHash } from 'node:crypto';
import type { KVDriver, ScriptReply } from '@lix/redis-pool';
import { SemanticCacheError } from './errors.js';
import { STALE_SET_WINDOW_MS } from './expiry.js';
import { scopeKeysOf, urlDigest } from './keys.js';
import { INVALIDATE_CORRUPT, beginInvalidationScript, endInvalidationScript, invalidateScopeScript, registerTagScript } from './policy-scripts.js';

/** Most tags one entry may carry. */
export const MAX_TAGS_PER_ENTRY = 32;
/** Most tags one `invalidate` call may name. */
export const MAX_TAGS_PER_INVALIDATION = 1000;
/** Longest tag, in UTF-16 code units. */
export const MAX_TAG_LENGTH = 256;
/** Scopes invalidated at once (each is one script on the scope's own slot). */
const INVALIDATION_CONCURRENCY = 16;

/**
 * A tag as the scripts see it: the index key (its own hash tag, so its own Cluster slot)
 * and its name inside entry metas and tombstones: `u` for the entry's URL, else 32 hex
 * digits of the tag's SHA-256 (bounded, and nothing in a tag can break the meta format).
 */
export interface TagRef {
  indexKey: string;
  name: string;
}

/** Validates `tags` (an array of 1–256-character strings); duplicates collapse. */
export function checkTags(tags: unknown, what: string, max: number, allowEmpty: boolean): string[] {
  if (!Array.isArray(tags)) throw new SemanticCacheError('INVALID_TAG', `${what} must be an array of strings, got ${tags === null ? 'null' : typeof tags}.`);
  if (tags.length === 0 && !allowEmpty) throw new SemanticCacheError('INVALID_TAG', `${what} is empty; name at least one tag.`);
  if (tags.length > max) throw new SemanticCacheError('INVALID_TAG', `${what} has ${tags.length} tags; at most ${max} are allowed.`);
  for (const tag of tags) {
    if (typeof tag !== 'string')
      throw new SemanticCacheError('INVALID_TAG', `Tags are strings (a document id, a page version, a tenant); got a ${tag === null ? 'null' : typeof tag}.`);
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH)
      throw new SemanticCacheError('INVALID_TAG', `A tag must have 1 to ${MAX_TAG_LENGTH} characters, got ${tag.length}.`);
  }
  return [...new Set(tags as string[])];
}

/** The ref of a user tag. */
export function tagRef(prefix: string, tag: string): TagRef {
  const digest = createHash('sha256').update(`tag\u0000${tag}`, 'utf8').digest('hex').slice(0, 32);
  return { indexKey: `${prefix}:sc:t:{t=${digest}}`, name: digest };
}

/** The ref of a URL: every entry carries its URL as tag `u`, so `invalidate({ url })` finds every scope. */
export function urlRef(prefix: string, url: string): TagRef {
  return { indexKey: `${prefix}:sc:t:{u=${urlDigest(url)}}`, name: 'u' };
}

/** What {@link registerTags} learnt: the generation of each tag, and when (server time) the earliest was read. */
export interface Registration {
  generations: Array<readonly [string, number]>;
  registeredAt: number;
}

function pair(reply: ScriptReply, what: string): [number, number] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
    throw new SemanticCacheError('BACKEND_ERROR', `The ${what} script returned an unexpected reply: ${JSON.stringify(reply)}.`);
  }
  return [reply[0], reply[1]];
}

/**
 * Registers `vectorsKey` under every tag (one script per tag, on the tag's slot, all in
 * flight at once) before the entry is written. This is the write's linearisation point
 * with respect to invalidation: an invalidation that bumps a generation after it will
 * visit this scope, and one before it is invisible to the write (its tombstone is older).
 */
export async function registerTags(driver: KVDriver, refs: readonly TagRef[], vectorsKey: string, indexTtlMs: number): Promise<Registration> {
  const replies = await Promise.all(refs.map((ref) => driver.eval(registerTagScript, [ref.indexKey], [vectorsKey, indexTtlMs + STALE_SET_WINDOW_MS])));
  let registeredAt = Number.POSITIVE_INFINITY;
  const generations = refs.map((ref, i) => {
    const [generation, serverNow] = pair(replies[i]!, 'register-tag');
    if (serverNow < registeredAt) registeredAt = serverNow;
    return [ref.name, generation] as const;
  });
  return { generations, registeredAt };
}

/** What {@link invalidateRef} did for one tag. */
export interface TagInvalidation {
  removed: number;
  scopes: number;
  corruptScopes: number;
}

function decodeField(value: ScriptReply): string {
  if (!(value instanceof Uint8Array)) throw new SemanticCacheError('BACKEND_ERROR', 'The begin-invalidation script returned a non-string scope.');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

/**
 * Invalidates one tag everywhere: bump its generation and read the scopes registered
 * under it (one script on the tag's slot); in every such scope remove the entries
 * carrying it below the new generation and leave a tombstone (one script per scope, on
 * its slot); then unregister the scopes still registered below it. No KEYS, no SCAN, and
 * only the scopes that hold the tag are read.
 */
export async function invalidateRef(driver: KVDriver, ref: TagRef, nowMs: number): Promise<TagInvalidation> {
  const begun = await driver.eval(beginInvalidationScript, [ref.indexKey], [STALE_SET_WINDOW_MS]);
  if (!Array.isArray(begun) || typeof begun[0] !== 'number')
    throw new SemanticCacheError('BACKEND_ERROR', `The begin-invalidation script returned ${JSON.stringify(begun)}.`);
  const generation = begun[0];
  const scopes = begun.slice(1).map(decodeField);
  let removed = 0;
  let corruptScopes = 0;
  for (let start = 0; start < scopes.length; start += INVALIDATION_CONCURRENCY) {
    const chunk = scopes.slice(start, start + INVALIDATION_CONCURRENCY);
    const replies = await Promise.all(
      chunk.map((vectorsKey) => {
        const keys = scopeKeysOf(vectorsKey);
        return driver.eval(invalidateScopeScript, [keys.vectors, keys.responses, keys.tombstones], [ref.name, generation, STALE_SET_WINDOW_MS, nowMs]);
      }),
    );
    for (const reply of replies) {
      if (reply === INVALIDATE_CORRUPT) corruptScopes++;
      else if (typeof reply === 'number') removed += reply;
    }
  }
  if (scopes.length > 0) await driver.eval(endInvalidationScript, [ref.indexKey], [generation, ...scopes]);
  return { removed, scopes: scopes.length, corruptScopes };
}
