import type { KVScript } from './script.js';

/** An argument to a script: strings and numbers reach Lua as strings, bytes as binary-safe strings. */
export type KVArg = string | number | Uint8Array;

/**
 * What a script returns, mapped the same way on every driver:
 * Lua integer → `number`, bulk/status string → `Uint8Array`, table → array,
 * `nil`/`false` → `null`. (Lua `true` becomes `1`, as Redis does.)
 */
export type ScriptReply = null | number | Uint8Array | ScriptReply[];

/** Options of {@link KVDriver.set}. */
export interface SetOptions {
  /** Expire after this many milliseconds (SET … PX). */
  ttlMs?: number;
  /** `NX`: only set a missing key; `XX`: only set an existing key. */
  mode?: 'NX' | 'XX';
}

/** A sorted-set member with its score. */
export interface ScoredMember {
  score: number;
  member: string;
}

/** Options of {@link KVDriver.zrangeByScore}. */
export interface RangeLimit {
  offset: number;
  count: number;
}

/** Options of {@link KVDriver.scan}. */
export interface ScanOptions {
  /** Glob pattern, as in SCAN MATCH. */
  match: string;
  /** Hint for keys per SCAN call (default 250). */
  count?: number;
  /**
   * Stops the scan: before the next SCAN call after it aborts, the iteration throws
   * `signal.reason` (keys already yielded stay yielded; no call is left running).
   */
  signal?: AbortSignal;
}

/**
 * Commands queued in a {@link KVBatch}: each call returns a promise of that command's
 * own result, settled when {@link KVBatch.exec} has run the batch in one round trip.
 */
export interface KVBatchCommands {
  get(key: string): Promise<Uint8Array | null>;
  set(key: string, value: Uint8Array, options?: SetOptions): Promise<boolean>;
  del(keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  incrBy(key: string, by: number): Promise<number>;
  pexpire(key: string, ttlMs: number): Promise<boolean>;
  pttl(key: string): Promise<number>;
  rpush(key: string, values: Uint8Array[]): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<Uint8Array[]>;
  llen(key: string): Promise<number>;
  ltrim(key: string, start: number, stop: number): Promise<void>;
  hset(key: string, fields: Record<string, Uint8Array>): Promise<number>;
  hget(key: string, field: string): Promise<Uint8Array | null>;
  hgetall(key: string): Promise<Record<string, Uint8Array>>;
  hdel(key: string, fields: string[]): Promise<number>;
  hincrBy(key: string, field: string, by: number): Promise<number>;
  zadd(key: string, members: ScoredMember[]): Promise<number>;
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit): Promise<string[]>;
  zrem(key: string, members: string[]): Promise<number>;
  zcard(key: string): Promise<number>;
  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply>;
}

/**
 * A pipeline (or, with `atomic`, a MULTI/EXEC transaction) sent in one round trip.
 * On Redis Cluster every key of one batch must hash to the same slot (use a hash tag).
 */
export interface KVBatch extends KVBatchCommands {
  /**
   * Sends every queued command. Resolves when all have answered; rejects with a
   * {@link KVError} when the batch could not be sent or any command failed (the
   * failed commands' own promises reject with their errors).
   */
  exec(): Promise<void>;
}

/** Options of {@link KVDriver.batch}. */
export interface BatchOptions {
  /** Run as MULTI/EXEC, so no other client's command interleaves. */
  atomic?: boolean;
}

/**
 * The one interface every layer talks to. Values are bytes in and bytes out: drivers
 * return plain `Uint8Array` views (never `Buffer` subclasses or decoded strings) so
 * results compare equal whichever driver produced them. TTLs are milliseconds.
 * Every failure rejects with a {@link KVError} carrying a stable `code`.
 */
export interface KVDriver {
  /** `'ioredis'`, `'node-redis'`, `'memory'`, or a custom driver's name. */
  readonly driverName: string;
  /** True when connected to a Redis Cluster (only db 0; keys of one operation share a slot). */
  readonly isCluster: boolean;
  /**
   * How long one command may wait for its answer before it fails with `TIMEOUT`, when the
   * driver bounds commands (the Redis drivers do; the in-memory one answers at once).
   * Layers use it as their default bound on a whole call during an outage.
   */
  readonly commandTimeoutMs?: number | undefined;

  /** Opens the connection; safe to call more than once. Commands also connect lazily. */
  connect(): Promise<void>;
  /** Round trip to the server; rejects with a `KVError` when it is unreachable. */
  ping(): Promise<void>;
  /** Gracefully closes the connection; afterwards commands reject with `CLIENT_CLOSED`. */
  close(): Promise<void>;
  /** `close()`, for `await using driver = createIoredisDriver(…)`: closed when the block ends. */
  [Symbol.asyncDispose](): Promise<void>;

  get(key: string): Promise<Uint8Array | null>;
  /** Resolves `false` when `NX`/`XX` prevented the write. */
  set(key: string, value: Uint8Array, options?: SetOptions): Promise<boolean>;
  /** Values in key order; on a cluster the keys may span slots (the driver splits by slot). */
  mget(keys: string[]): Promise<(Uint8Array | null)[]>;
  /** Sets many keys, each with the same optional TTL, in one round trip (per slot on a cluster). */
  mset(entries: Iterable<readonly [string, Uint8Array]>, options?: { ttlMs?: number }): Promise<void>;
  /** Number of keys removed; on a cluster the keys may span slots. */
  del(keys: string[]): Promise<number>;
  exists(key: string): Promise<boolean>;
  incrBy(key: string, by: number): Promise<number>;
  /** `false` when the key does not exist. */
  pexpire(key: string, ttlMs: number): Promise<boolean>;
  /** Remaining TTL in ms; `-1` without expiry, `-2` when the key does not exist. */
  pttl(key: string): Promise<number>;

  rpush(key: string, values: Uint8Array[]): Promise<number>;
  lrange(key: string, start: number, stop: number): Promise<Uint8Array[]>;
  llen(key: string): Promise<number>;
  ltrim(key: string, start: number, stop: number): Promise<void>;

  hset(key: string, fields: Record<string, Uint8Array>): Promise<number>;
  hget(key: string, field: string): Promise<Uint8Array | null>;
  hgetall(key: string): Promise<Record<string, Uint8Array>>;
  hdel(key: string, fields: string[]): Promise<number>;
  hincrBy(key: string, field: string, by: number): Promise<number>;

  zadd(key: string, members: ScoredMember[]): Promise<number>;
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit): Promise<string[]>;
  zrem(key: string, members: string[]): Promise<number>;
  zcard(key: string): Promise<number>;

  /** Iterates matching keys with SCAN (every master on a cluster); never KEYS. */
  scan(options: ScanOptions): AsyncIterable<string>;

  /** Starts a pipeline or transaction that costs one round trip. */
  batch(options?: BatchOptions): KVBatch;

  /**
   * Runs an atomic operation defined with {@link defineScript}: EVALSHA with the cached
   * SHA-1, falling back to EVAL on NOSCRIPT; the in-memory driver runs its `memory` twin.
   * On a cluster all `keys` must share a slot.
   */
  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply>;

  /** Bytes the server uses for a key (MEMORY USAGE), or `null` when the key is missing. */
  memoryUsage(key: string): Promise<number | null>;
}

/** Where drivers and layers send diagnostics, and the injectable clock: the kernel's (`@lix/core`), one definition for every layer. */
export { systemClock, type Clock, type Logger } from '@lix/core';
