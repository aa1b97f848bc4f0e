import { checkOptionsObject, describeValue } from '../shared/arguments.js';
import { systemClock, type Clock, type Logger, type RangeLimit, type ScoredMember, type SetOptions } from '../driver.js';
import { KVError } from '../shared/errors.js';
import { compileGlob } from './glob.js';
import type { MemoryStore } from '../script.js';

type Entry =
  | { kind: 'string'; value: Uint8Array; expiresAt: number | undefined }
  | { kind: 'list'; value: Uint8Array[]; expiresAt: number | undefined }
  | { kind: 'hash'; value: Map<string, Uint8Array>; expiresAt: number | undefined }
  | { kind: 'zset'; value: SortedSet; expiresAt: number | undefined };

type Kind = Entry['kind'];
type EntryOf<K extends Kind> = Extract<Entry, { kind: K }>;

/** Members with scores plus a lazily rebuilt order, so reads after a burst of writes sort once. */
interface SortedSet {
  scores: Map<string, number>;
  ordered: ScoredMember[] | undefined;
}

/** Options of {@link MemoryServer}. */
export interface MemoryServerOptions {
  /** Time source for TTLs (default `Date.now`); inject a manual clock in tests. */
  clock?: Clock;
  /**
   * How often (real time, ms) the background sweep reclaims expired keys nobody reads
   * again (default 1000). The timer is `unref()`ed and runs only while keys have a TTL.
   */
  sweepIntervalMs?: number;
  /** Most keys with a TTL one background sweep inspects, so a sweep never blocks long (default 1000). */
  sweepBatchSize?: number;
  /** Receives debug messages about sweeps. */
  logger?: Logger;
}

const WRONG_TYPE_MESSAGE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const INTEGER_TEXT = /^(?:0|-?[1-9][0-9]*)$/;
/** Expired keys a write inspects besides its own, which keeps stored keys within a constant factor of live ones. */
const SWEEP_PER_WRITE = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Checks the `clock` and `logger` options shared by the memory server and driver. */
export function checkClockAndLogger(clock: unknown, logger: unknown): void {
  if (clock !== undefined && (clock === null || typeof clock !== 'object' || typeof (clock as { now?: unknown }).now !== 'function')) {
    throw invalid('clock must be an object with a now() method returning milliseconds.');
  }
  if (logger !== undefined && (logger === null || typeof logger !== 'object'))
    throw invalid('logger must be an object with optional debug/info/warn/error methods.');
}

function invalid(message: string): KVError {
  return new KVError('INVALID_ARGUMENT', message);
}

function copyBytes(value: Uint8Array): Uint8Array {
  // `new Uint8Array(x)` copies and always yields a plain Uint8Array, even from a Buffer.
  return new Uint8Array(value);
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw invalid(`Keys must be strings, got ${typeof key}.`);
}

function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`${what} must be a Uint8Array, got ${value === null ? 'null' : typeof value}.`);
}

function checkInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalid(`${what} must be a safe integer, got ${describeValue(value)}.`);
  }
}

function checkNonEmpty(values: readonly unknown[], command: string): void {
  if (!Array.isArray(values) || values.length === 0) {
    throw invalid(`${command} needs at least one element (Redis rejects the command without one).`);
  }
}

function parseInteger(bytes: Uint8Array, notInteger: string): bigint {
  // Redis' string2ll: optional '-', no leading zeros, no spaces or '+', 64-bit range.
  if (bytes.length === 0 || bytes.length > 20) throw new KVError('COMMAND_FAILED', notInteger);
  const text = decoder.decode(bytes);
  if (!INTEGER_TEXT.test(text)) throw new KVError('COMMAND_FAILED', notInteger);
  const value = BigInt(text);
  if (value > INT64_MAX || value < INT64_MIN) throw new KVError('COMMAND_FAILED', notInteger);
  return value;
}

function addInteger(current: bigint, by: number): bigint {
  const result = current + BigInt(by);
  if (result > INT64_MAX || result < INT64_MIN) {
    throw new KVError('COMMAND_FAILED', 'ERR increment or decrement would overflow');
  }
  return result;
}

/** Compares strings by UTF-8 byte order (what Redis uses), which equals code point order. */
function compareMembers(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i += 1;
  }
  return a.length - b.length;
}

/** LRANGE/LTRIM index normalisation: `[start, stop]` clamped, or undefined when empty. */
function normaliseRange(start: number, stop: number, length: number): [number, number] | undefined {
  let from = start < 0 ? length + start : start;
  let to = stop < 0 ? length + stop : stop;
  if (from < 0) from = 0;
  if (to >= length) to = length - 1;
  if (from > to || from >= length) return undefined;
  return [from, to];
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function setProperty(target: Record<string, Uint8Array>, field: string, value: Uint8Array): void {
  // A field called "__proto__" must become an own property, not replace the prototype.
  if (field === '__proto__') Object.defineProperty(target, field, { value, enumerable: true, writable: true, configurable: true });
  else target[field] = value;
}

/**
 * The shared keyspace of the in-memory driver: one `MemoryServer` is one Redis. Several
 * drivers created over the same server see each other's writes, like several clients of
 * one Redis. Every method is synchronous and runs to completion, so each command (and each
 * script or batch built from them) is atomic. Values are copied on the way in and out.
 *
 * Expiry follows Redis: a key is gone once the clock passes its deadline (checked on
 * every access), writes reclaim a few expired keys as they go, and an `unref()`ed timer
 * reclaims keys nobody touches again.
 */
export class MemoryServer implements MemoryStore {
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #sweepIntervalMs: number;
  readonly #sweepBatchSize: number;
  #keys = new Map<string, Entry>();
  /** Keys that carry a TTL, in the order the incremental sweep visits them. */
  #volatile = new Set<string>();
  #sweepCursor: Iterator<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: MemoryServerOptions = {}) {
    checkOptionsObject(options, ['clock', 'sweepIntervalMs', 'sweepBatchSize', 'logger'], 'MemoryServer');
    checkClockAndLogger(options.clock, options.logger);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1000;
    this.#sweepBatchSize = options.sweepBatchSize ?? 1000;
    if (typeof this.#sweepIntervalMs !== 'number' || !(this.#sweepIntervalMs > 0) || this.#sweepIntervalMs > 2_147_483_647) {
      throw invalid('sweepIntervalMs must be a positive number of milliseconds.');
    }
    if (!Number.isSafeInteger(this.#sweepBatchSize) || this.#sweepBatchSize < 1) throw invalid('sweepBatchSize must be a positive integer.');
  }

  /** The clock TTLs are measured with. */
  get clock(): Clock {
    return this.#clock;
  }

  /** True once {@link close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Keys held in memory, including expired keys not reclaimed yet (for tests and
   * monitoring; `dbSize` semantics would hide the difference).
   */
  get storedKeyCount(): number {
    return this.#keys.size;
  }

  /** True while the background sweep timer exists (only while some key has a TTL). */
  get sweepScheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** Drops every key (FLUSHALL). */
  flushAll(): void {
    this.#keys = new Map();
    this.#volatile = new Set();
    this.#sweepCursor = undefined;
    this.#stopTimer();
  }

  /** Drops every key and stops the sweep timer; drivers over this server then reject with `CLIENT_CLOSED`. */
  close(): void {
    this.#closed = true;
    this.flushAll();
  }

  /** `close()`, for `using server = createMemoryServer()`: closed when the block ends. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The clock's current time in ms. */
  now(): number {
    return this.#clock.now();
  }

  // ---- keyspace internals -------------------------------------------------------------

  #isExpired(entry: Entry, now: number): boolean {
    // Redis keeps a key alive through its deadline millisecond (expired when now > when).
    return entry.expiresAt !== undefined && now > entry.expiresAt;
  }

  #lookup(key: string): Entry | undefined {
    const entry = this.#keys.get(key);
    if (entry === undefined) return undefined;
    if (this.#isExpired(entry, this.#clock.now())) {
      this.#remove(key);
      return undefined;
    }
    return entry;
  }

  #typed<K extends Kind>(key: string, kind: K): EntryOf<K> | undefined {
    checkKey(key);
    const entry = this.#lookup(key);
    if (entry === undefined) return undefined;
    if (entry.kind !== kind) throw new KVError('WRONG_TYPE', WRONG_TYPE_MESSAGE);
    return entry as EntryOf<K>;
  }

  #remove(key: string): boolean {
    const existed = this.#keys.delete(key);
    this.#volatile.delete(key);
    if (this.#volatile.size === 0) this.#stopTimer();
    return existed;
  }

  #store(key: string, entry: Entry): void {
    this.#keys.set(key, entry);
    this.#trackExpiry(key, entry);
  }

  #trackExpiry(key: string, entry: Entry): void {
    if (entry.expiresAt === undefined) {
      this.#volatile.delete(key);
      if (this.#volatile.size === 0) this.#stopTimer();
    } else {
      this.#volatile.add(key);
      this.#startTimer();
    }
  }

  /** Called by every write: reclaims up to `count` expired keys, resuming where it stopped. */
  #sweepSome(count: number): number {
    if (this.#volatile.size === 0) return 0;
    const now = this.#clock.now();
    let inspected = 0;
    let removed = 0;
    let restarted = false;
    while (inspected < count && this.#volatile.size > 0) {
      this.#sweepCursor ??= this.#volatile.values();
      const next = this.#sweepCursor.next();
      if (next.done) {
        this.#sweepCursor = undefined;
        // One wrap per call at most, so a sweep never inspects a key twice.
        if (restarted) break;
        restarted = true;
        continue;
      }
      inspected += 1;
      const entry = this.#keys.get(next.value);
      if (entry === undefined) {
        this.#volatile.delete(next.value);
      } else if (this.#isExpired(entry, now)) {
        this.#remove(next.value);
        removed += 1;
      }
    }
    return removed;
  }

  /**
   * Reclaims expired keys now, inspecting at most `maxKeys` keys that carry a TTL
   * (default: the configured sweep batch size). Returns how many it removed.
   */
  sweep(maxKeys: number = this.#sweepBatchSize): number {
    return this.#sweepSome(maxKeys);
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => {
      const removed = this.#sweepSome(this.#sweepBatchSize);
      if (removed > 0) this.#logger?.debug?.('memory driver: expired keys reclaimed', { removed, remainingWithTtl: this.#volatile.size });
    }, this.#sweepIntervalMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #wrote(): void {
    this.#sweepSome(SWEEP_PER_WRITE);
  }

  #deadline(ttlMs: number, command: string): number {
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw invalid(`${command}: ttlMs must be a positive integer number of milliseconds, got ${describeValue(ttlMs)}.`);
    }
    return this.#clock.now() + ttlMs;
  }

  // ---- strings ------------------------------------------------------------------------

  /** GET. */
  get(key: string): Uint8Array | null {
    const entry = this.#typed(key, 'string');
    return entry === undefined ? null : copyBytes(entry.value);
  }

  /** SET with optional PX and NX/XX; `false` when NX/XX prevented the write. */
  set(key: string, value: Uint8Array, options: SetOptions = {}): boolean {
    checkKey(key);
    checkBytes(value, 'Values');
    const { ttlMs, mode } = options;
    if (mode !== undefined && mode !== 'NX' && mode !== 'XX') throw invalid(`SET mode must be 'NX' or 'XX', got ${describeValue(mode)}.`);
    const expiresAt = ttlMs === undefined ? undefined : this.#deadline(ttlMs, 'SET');
    const exists = this.#lookup(key) !== undefined;
    if ((mode === 'NX' && exists) || (mode === 'XX' && !exists)) return false;
    this.#store(key, { kind: 'string', value: copyBytes(value), expiresAt });
    this.#wrote();
    return true;
  }

  /** MGET: `null` for missing keys and for keys of another type, as Redis does. */
  mget(keys: string[]): (Uint8Array | null)[] {
    return keys.map((key) => {
      checkKey(key);
      const entry = this.#lookup(key);
      return entry?.kind === 'string' ? copyBytes(entry.value) : null;
    });
  }

  /** MSET, each key with the same optional TTL. */
  mset(entries: Iterable<readonly [string, Uint8Array]>, options: { ttlMs?: number } = {}): void {
    const expiresAt = options.ttlMs === undefined ? undefined : this.#deadline(options.ttlMs, 'MSET');
    // Validate everything first: MSET writes all keys or none.
    const pairs: [string, Uint8Array][] = [];
    for (const pair of entries) {
      const [key, value] = pair;
      checkKey(key);
      checkBytes(value, 'Values');
      pairs.push([key, copyBytes(value)]);
    }
    for (const [key, value] of pairs) {
      this.#store(key, { kind: 'string', value, expiresAt });
      this.#wrote();
    }
  }

  /** DEL: how many of `keys` existed. */
  del(keys: string[]): number {
    let removed = 0;
    for (const key of keys) {
      checkKey(key);
      if (this.#lookup(key) !== undefined && this.#remove(key)) removed += 1;
    }
    return removed;
  }

  /** EXISTS for one key. */
  exists(key: string): boolean {
    checkKey(key);
    return this.#lookup(key) !== undefined;
  }

  /** INCRBY: the stored text must be a 64-bit decimal integer; keeps the TTL. */
  incrBy(key: string, by: number): number {
    checkInteger(by, 'INCRBY increment');
    const entry = this.#typed(key, 'string');
    const current = entry === undefined ? 0n : parseInteger(entry.value, 'ERR value is not an integer or out of range');
    const next = addInteger(current, by);
    const value = encoder.encode(next.toString());
    if (entry === undefined) this.#store(key, { kind: 'string', value, expiresAt: undefined });
    else entry.value = value;
    this.#wrote();
    return Number(next);
  }

  /** PEXPIRE: `false` for a missing key; a TTL ≤ 0 deletes the key, as Redis does. */
  pexpire(key: string, ttlMs: number): boolean {
    checkKey(key);
    checkInteger(ttlMs, 'PEXPIRE ttlMs');
    const entry = this.#lookup(key);
    if (entry === undefined) return false;
    if (ttlMs <= 0) {
      this.#remove(key);
      return true;
    }
    entry.expiresAt = this.#clock.now() + ttlMs;
    this.#trackExpiry(key, entry);
    this.#wrote();
    return true;
  }

  /** PTTL: ms left, `-1` without a TTL, `-2` for a missing key. */
  pttl(key: string): number {
    checkKey(key);
    const entry = this.#lookup(key);
    if (entry === undefined) return -2;
    if (entry.expiresAt === undefined) return -1;
    return Math.max(0, entry.expiresAt - this.#clock.now());
  }

  // ---- lists --------------------------------------------------------------------------

  /** RPUSH: the new length. */
  rpush(key: string, values: Uint8Array[]): number {
    checkNonEmpty(values, 'RPUSH');
    for (const value of values) checkBytes(value, 'List values');
    const copies = values.map(copyBytes);
    const entry = this.#typed(key, 'list');
    if (entry === undefined) {
      this.#store(key, { kind: 'list', value: copies, expiresAt: undefined });
      this.#wrote();
      return copies.length;
    }
    for (const value of copies) entry.value.push(value);
    this.#wrote();
    return entry.value.length;
  }

  /** LPOP with a count: up to `count` values from the head; an emptied list is deleted. */
  lpop(key: string, count: number): Uint8Array[] {
    checkInteger(count, 'LPOP count');
    if (count < 0) throw invalid('LPOP count must not be negative.');
    const entry = this.#typed(key, 'list');
    if (entry === undefined) return [];
    const taken = entry.value.splice(0, count);
    if (entry.value.length === 0) this.#remove(key);
    this.#wrote();
    return taken;
  }

  /** LRANGE with inclusive, possibly negative indexes. */
  lrange(key: string, start: number, stop: number): Uint8Array[] {
    checkInteger(start, 'LRANGE start');
    checkInteger(stop, 'LRANGE stop');
    const entry = this.#typed(key, 'list');
    if (entry === undefined) return [];
    const range = normaliseRange(start, stop, entry.value.length);
    if (range === undefined) return [];
    return entry.value.slice(range[0], range[1] + 1).map(copyBytes);
  }

  /** LLEN. */
  llen(key: string): number {
    return this.#typed(key, 'list')?.value.length ?? 0;
  }

  /** LTRIM: keeps `[start, stop]`; a list trimmed to nothing is deleted. */
  ltrim(key: string, start: number, stop: number): void {
    checkInteger(start, 'LTRIM start');
    checkInteger(stop, 'LTRIM stop');
    const entry = this.#typed(key, 'list');
    if (entry === undefined) return;
    const range = normaliseRange(start, stop, entry.value.length);
    if (range === undefined) {
      this.#remove(key);
      return;
    }
    entry.value = entry.value.slice(range[0], range[1] + 1);
    this.#wrote();
  }

  // ---- hashes -------------------------------------------------------------------------

  /** HSET: how many fields were new. */
  hset(key: string, fields: Record<string, Uint8Array>): number {
    if (fields === null || typeof fields !== 'object') throw invalid('HSET fields must be an object of Uint8Array values.');
    const pairs = Object.entries(fields);
    checkNonEmpty(pairs, 'HSET');
    for (const [, value] of pairs) checkBytes(value, 'Hash values');
    let entry = this.#typed(key, 'hash');
    if (entry === undefined) {
      entry = { kind: 'hash', value: new Map(), expiresAt: undefined };
      this.#store(key, entry);
    }
    let added = 0;
    for (const [field, value] of pairs) {
      if (!entry.value.has(field)) added += 1;
      entry.value.set(field, copyBytes(value));
    }
    this.#wrote();
    return added;
  }

  /** HGET. */
  hget(key: string, field: string): Uint8Array | null {
    const value = this.#typed(key, 'hash')?.value.get(field);
    return value === undefined ? null : copyBytes(value);
  }

  /** HGETALL: `{}` for a missing key. */
  hgetall(key: string): Record<string, Uint8Array> {
    const result: Record<string, Uint8Array> = {};
    const entry = this.#typed(key, 'hash');
    if (entry !== undefined) for (const [field, value] of entry.value) setProperty(result, field, copyBytes(value));
    return result;
  }

  /** HDEL: how many fields were removed; an emptied hash is deleted. */
  hdel(key: string, fields: string[]): number {
    checkNonEmpty(fields, 'HDEL');
    const entry = this.#typed(key, 'hash');
    if (entry === undefined) return 0;
    let removed = 0;
    for (const field of fields) if (entry.value.delete(field)) removed += 1;
    if (entry.value.size === 0) this.#remove(key);
    return removed;
  }

  /** HLEN. */
  hlen(key: string): number {
    return this.#typed(key, 'hash')?.value.size ?? 0;
  }

  /** HINCRBY: the field must hold a 64-bit decimal integer. */
  hincrBy(key: string, field: string, by: number): number {
    checkInteger(by, 'HINCRBY increment');
    let entry = this.#typed(key, 'hash');
    const stored = entry?.value.get(field);
    const current = stored === undefined ? 0n : parseInteger(stored, 'ERR hash value is not an integer');
    const next = addInteger(current, by);
    if (entry === undefined) {
      entry = { kind: 'hash', value: new Map(), expiresAt: undefined };
      this.#store(key, entry);
    }
    entry.value.set(field, encoder.encode(next.toString()));
    this.#wrote();
    return Number(next);
  }

  // ---- sorted sets --------------------------------------------------------------------

  /** ZADD: how many members were new (score updates do not count). */
  zadd(key: string, members: ScoredMember[]): number {
    checkNonEmpty(members, 'ZADD');
    for (const item of members) {
      if (item === null || typeof item !== 'object' || typeof item.member !== 'string') throw invalid('ZADD members must be { score, member: string }.');
      if (typeof item.score !== 'number' || Number.isNaN(item.score)) throw invalid(`ZADD scores must be numbers, got ${describeValue(item.score)}.`);
    }
    let entry = this.#typed(key, 'zset');
    if (entry === undefined) {
      entry = { kind: 'zset', value: { scores: new Map(), ordered: undefined }, expiresAt: undefined };
      this.#store(key, entry);
    }
    let added = 0;
    for (const { score, member } of members) {
      const previous = entry.value.scores.get(member);
      if (previous === undefined) added += 1;
      // -0 and 0 are the same score in Redis.
      if (previous !== score) entry.value.scores.set(member, score === 0 ? 0 : score);
    }
    entry.value.ordered = undefined;
    this.#wrote();
    return added;
  }

  /** ZRANGEBYSCORE with inclusive bounds (±Infinity allowed) and an optional LIMIT. */
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit): string[] {
    if (typeof min !== 'number' || Number.isNaN(min) || typeof max !== 'number' || Number.isNaN(max)) {
      throw invalid('ZRANGEBYSCORE bounds must be numbers (±Infinity allowed).');
    }
    if (limit !== undefined) {
      checkInteger(limit.offset, 'ZRANGEBYSCORE limit offset');
      checkInteger(limit.count, 'ZRANGEBYSCORE limit count');
    }
    const entry = this.#typed(key, 'zset');
    if (entry === undefined || min > max) return [];
    const ordered = (entry.value.ordered ??= [...entry.value.scores]
      .map(([member, score]) => ({ member, score }))
      .sort((a, b) => a.score - b.score || compareMembers(a.member, b.member)));
    const first = lowerBound(ordered, min);
    let result: string[] = [];
    for (let i = first; i < ordered.length && ordered[i]!.score <= max; i += 1) result.push(ordered[i]!.member);
    if (limit !== undefined) {
      // Redis: a negative offset yields nothing, a negative count means "all the rest".
      if (limit.offset < 0) return [];
      result = limit.count < 0 ? result.slice(limit.offset) : result.slice(limit.offset, limit.offset + limit.count);
    }
    return result;
  }

  /** ZREM: how many members were removed; an emptied set is deleted. */
  zrem(key: string, members: string[]): number {
    checkNonEmpty(members, 'ZREM');
    const entry = this.#typed(key, 'zset');
    if (entry === undefined) return 0;
    let removed = 0;
    for (const member of members) if (entry.value.scores.delete(member)) removed += 1;
    if (removed > 0) entry.value.ordered = undefined;
    if (entry.value.scores.size === 0) this.#remove(key);
    return removed;
  }

  /** ZCARD. */
  zcard(key: string): number {
    return this.#typed(key, 'zset')?.value.scores.size ?? 0;
  }

  // ---- keyspace -----------------------------------------------------------------------

  /**
   * Iterates live keys matching a Redis glob, `count` at a time between yields. Like
   * SCAN it tolerates concurrent writes: a key present for the whole iteration is
   * returned exactly once (a deleted and recreated key may come twice, as with SCAN),
   * and keys added meanwhile may or may not appear.
   */
  *scanChunks(match: string, count: number): Generator<string[], void, void> {
    const matcher = compileGlob(match);
    let chunk: string[] = [];
    // A Map iterator follows the live map: deletions are skipped and additions show up later.
    for (const key of this.#keys.keys()) {
      if (this.#closed) return;
      if (this.#lookup(key) !== undefined && matcher.matches(key)) chunk.push(key);
      if (chunk.length >= count) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /**
   * An estimate of the bytes a key takes, in the spirit of MEMORY USAGE: 56 bytes of
   * per-key overhead (dict entry, object header, expiry slot) plus the key's UTF-8
   * length, plus per type: a string's length; 16 bytes plus the length of each list
   * element; 32 bytes plus field and value lengths for each hash field; 48 bytes plus
   * the member length for each sorted-set member. `null` for a missing key. It is the
   * same order of magnitude as Redis reports for the same data, not byte-exact.
   */
  memoryUsage(key: string): number | null {
    checkKey(key);
    const entry = this.#lookup(key);
    if (entry === undefined) return null;
    let bytes = 56 + utf8Length(key);
    switch (entry.kind) {
      case 'string':
        bytes += entry.value.length;
        break;
      case 'list':
        for (const value of entry.value) bytes += 16 + value.length;
        break;
      case 'hash':
        for (const [field, value] of entry.value) bytes += 32 + utf8Length(field) + value.length;
        break;
      case 'zset':
        for (const member of entry.value.scores.keys()) bytes += 48 + utf8Length(member);
        break;
    }
    return bytes;
  }
}

function lowerBound(ordered: readonly ScoredMember[], min: number): number {
  let lo = 0;
  let hi = ordered.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ordered[mid]!.score < min) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Creates an empty {@link MemoryServer}. */
export function createMemoryServer(options?: MemoryServerOptions): MemoryServer {
  return new MemoryServer(options);
}
