import { SemanticCacheError } from './errors.js';
import { checkUrl } from './keys.js';
import { MAX_TAGS_PER_ENTRY, MAX_TAGS_PER_INVALIDATION, checkTags } from './tags.js';
import type { ExpiryMode } from './expiry.js';

/** Options of `SemanticCache.set`. */
export interface SetEntryOptions {
  /** This entry's TTL (sliding: its idle time) instead of the cache's `ttlMs`. */
  ttlMs?: number;
  /**
   * This entry's expiry mode instead of the cache's `expiry`: `'absolute'` makes an entry
   * that never refreshes on hit even in a sliding cache; `'sliding'` one that does in an
   * absolute cache.
   */
  expiry?: ExpiryMode;
  /** Sliding only: the most this entry lives from its write (default: the cache's `maxAgeMs`). */
  maxAgeMs?: number;
  /**
   * Strings naming what the response depends on (a document id, a page version, a
   * tenant): `invalidate({ tags })` removes it when any of them goes stale. Up to 32.
   */
  tags?: readonly string[];
}

/** What `SemanticCache.invalidate` removes: entries carrying any of `tags`, and/or every entry of `url`, in every scope. */
export interface InvalidateSelector {
  tags?: readonly string[];
  url?: string;
}

/** What `SemanticCache.invalidate` did. */
export interface InvalidationResult {
  /** Live entries removed. */
  removed: number;
  /** Scopes (session or shared × URL) visited: only those indexed under a named tag or URL. */
  scopes: number;
}

/** Options of `SemanticCache.lookup`. */
export interface LookupPolicyOptions {
  /** Overrides the instance's `similarityThreshold` for this call (e.g. while tuning). */
  similarityThreshold?: number;
}

const SET_KEYS = new Set(['ttlMs', 'expiry', 'maxAgeMs', 'tags']);
const INVALIDATE_KEYS = new Set(['tags', 'url']);

/** Throws `INVALID_OPTION` for a key not in `known`. */
export function checkKnownKeys(options: object, known: ReadonlySet<string>, what: string): void {
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new SemanticCacheError('INVALID_OPTION', `Unknown ${what} option "${key}"; the options are ${[...known].join(', ')}.`);
  }
}

/** Validates `set` options; tags come back deduplicated. */
export function parseSetOptions(options: unknown): { options: SetEntryOptions; tags: string[] } {
  if (options === undefined) return { options: {}, tags: [] };
  if (options === null || typeof options !== 'object')
    throw new SemanticCacheError('INVALID_OPTION', 'set options must be an object: { ttlMs?, expiry?, maxAgeMs?, tags? }.');
  checkKnownKeys(options, SET_KEYS, 'set');
  const given = options as SetEntryOptions;
  const tags = given.tags === undefined ? [] : checkTags(given.tags, 'tags', MAX_TAGS_PER_ENTRY, true);
  return { options: given, tags };
}

/** Validates an invalidation selector: at least one of a non-empty tag list or a URL. */
export function parseInvalidateSelector(selector: unknown): { tags: string[]; url: string | undefined } {
  if (selector === null || typeof selector !== 'object') throw new SemanticCacheError('INVALID_OPTION', 'invalidate takes { tags?: string[], url?: string }.');
  checkKnownKeys(selector, INVALIDATE_KEYS, 'invalidate');
  const given = selector as InvalidateSelector;
  if (given.tags === undefined && given.url === undefined) throw new SemanticCacheError('INVALID_OPTION', 'invalidate needs tags, url or both.');
  const tags = given.tags === undefined ? [] : checkTags(given.tags, 'tags', MAX_TAGS_PER_INVALIDATION, false);
  const url = given.url === undefined ? undefined : checkUrl(given.url);
  return { tags, url };
}
