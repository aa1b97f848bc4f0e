import { SemanticCacheError } from './errors.js';

/**
 * How an entry expires: `'absolute'` (the default, as before) lives `ttlMs` from its
 * write whatever happens; `'sliding'` lives `ttlMs` from its last hit, never beyond
 * `maxAgeMs` from its write.
 */
export type ExpiryMode = 'absolute' | 'sliding';

/** Default cap on the life of a sliding entry: 24 hours from its write. */
export const DEFAULT_MAX_AGE_MS = 86_400_000;
/** Longest accepted `ttlMs` / `maxAgeMs`: one year. */
export const MAX_LIFETIME_MS = 365 * 86_400_000;

/**
 * How long a write may take from registering its tags to storing its entry. A write that
 * takes longer is refused (counted in `staleSets`), and tombstones of invalidated tags
 * are kept at least this long, so no in-flight write can bring back an invalidated entry.
 */
export const STALE_SET_WINDOW_MS = 600_000;

/** The expiry of one entry, resolved from the cache's defaults and the `set` options. */
export interface EntryExpiry {
  mode: ExpiryMode;
  /** Absolute: the entry's life. Sliding: the idle time after which it expires. */
  ttlMs: number;
  /** Sliding only: the most it lives from its write, however often it is hit. */
  maxAgeMs: number;
}

/** The expiry defaults of a cache, from its constructor options. */
export interface CacheExpiry {
  mode: ExpiryMode;
  maxAgeMs: number;
}

function checkMode(value: unknown, name: string): ExpiryMode {
  if (value !== 'absolute' && value !== 'sliding')
    throw new SemanticCacheError('INVALID_OPTION', `${name} must be 'absolute' or 'sliding', got ${JSON.stringify(value)}.`);
  return value;
}

/** Validates a TTL-like option: a whole number of ms from 1 to one year. */
export function checkLifetime(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIFETIME_MS) {
    throw new SemanticCacheError('INVALID_OPTION', `${name} must be a whole number of milliseconds from 1 to one year, got ${String(value)}.`);
  }
  return value;
}

/** The cache-wide expiry from the `expiry` and `maxAgeMs` constructor options. */
export function resolveCacheExpiry(options: { expiry?: unknown; maxAgeMs?: unknown }, ttlMs: number): CacheExpiry {
  const mode = options.expiry === undefined ? 'absolute' : checkMode(options.expiry, 'expiry');
  const maxAgeMs = options.maxAgeMs === undefined ? Math.max(DEFAULT_MAX_AGE_MS, ttlMs) : checkLifetime(options.maxAgeMs, 'maxAgeMs');
  if (maxAgeMs < ttlMs) throw new SemanticCacheError('INVALID_OPTION', `maxAgeMs (${maxAgeMs}) must be at least ttlMs (${ttlMs}).`);
  return { mode, maxAgeMs };
}

/** The expiry of one entry: the `set` options over the cache's defaults. */
export function resolveEntryExpiry(defaults: CacheExpiry, ttlMs: number, options: { ttlMs?: unknown; expiry?: unknown; maxAgeMs?: unknown }): EntryExpiry {
  const mode = options.expiry === undefined ? defaults.mode : checkMode(options.expiry, 'expiry');
  const entryTtl = options.ttlMs === undefined ? ttlMs : checkLifetime(options.ttlMs, 'ttlMs');
  const maxAgeMs = options.maxAgeMs === undefined ? Math.max(defaults.maxAgeMs, entryTtl) : checkLifetime(options.maxAgeMs, 'maxAgeMs');
  if (mode === 'sliding' && maxAgeMs < entryTtl) throw new SemanticCacheError('INVALID_OPTION', `maxAgeMs (${maxAgeMs}) must be at least ttlMs (${entryTtl}).`);
  return { mode, ttlMs: entryTtl, maxAgeMs };
}

/** The longest an entry can live (what the tag indexes that name it must outlive). */
export function lifetimeOf(expiry: EntryExpiry): number {
  return expiry.mode === 'sliding' ? expiry.maxAgeMs : expiry.ttlMs;
}

/**
 * The entry's meta field (`m<id>` in the responses hash), read by the Lua scripts:
 * `<a|s>;<idle ms>;<deadline ms>;<tag>=<generation>,…`, where the URL is the tag `u`
 * and other tags are 32 hex digits of their digest. Plain ASCII so Lua parses it with
 * one `string.match`.
 */
export function encodeEntryMeta(expiry: EntryExpiry, nowMs: number, tags: ReadonlyArray<readonly [string, number]>): string {
  const timing = expiry.mode === 'sliding' ? `s;${expiry.ttlMs};${nowMs + expiry.maxAgeMs}` : 'a;;';
  return `${timing};${tags.map(([name, generation]) => `${name}=${generation}`).join(',')}`;
}

/** Parsed form of {@link encodeEntryMeta} (for the in-memory twins and tests). */
export interface EntryMeta {
  sliding: boolean;
  idleMs: number;
  deadlineMs: number;
  tags: Map<string, number>;
}

/** Parses an entry's meta field; `null` when it is not in the format. */
export function parseEntryMeta(text: string): EntryMeta | null {
  const match = /^([a-zA-Z]);(\d*);(\d*);(.*)$/s.exec(text);
  if (match === null) return null;
  const tags = new Map<string, number>();
  for (const pair of match[4]!.matchAll(/([A-Za-z0-9]+)=(\d+)/g)) tags.set(pair[1]!, Number(pair[2]));
  return { sliding: match[1] === 's' && match[2] !== '' && match[3] !== '', idleMs: Number(match[2]), deadlineMs: Number(match[3]), tags };
}
