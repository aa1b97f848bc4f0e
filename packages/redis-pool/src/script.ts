import { createHash } from 'node:crypto';
import { checkOptionsObject } from './shared/arguments.js';
import { KVError } from './shared/errors.js';
import type { ScoredMember, ScriptReply, SetOptions, RangeLimit } from './driver.js';

/**
 * The synchronous view of the in-memory store that a script's `memory` twin runs
 * against. A script body runs to completion without yielding, which is what makes
 * it atomic there, as Lua is on Redis. Semantics follow the Redis commands of the
 * same names (negative list indexes, TTL in ms, `-2`/`-1` from `pttl`, …).
 */
export interface MemoryStore {
  /** The driver's clock, in ms. */
  now(): number;
  get(key: string): Uint8Array | null;
  set(key: string, value: Uint8Array, options?: SetOptions): boolean;
  del(keys: string[]): number;
  exists(key: string): boolean;
  incrBy(key: string, by: number): number;
  pexpire(key: string, ttlMs: number): boolean;
  pttl(key: string): number;
  rpush(key: string, values: Uint8Array[]): number;
  lpop(key: string, count: number): Uint8Array[];
  lrange(key: string, start: number, stop: number): Uint8Array[];
  llen(key: string): number;
  ltrim(key: string, start: number, stop: number): void;
  hset(key: string, fields: Record<string, Uint8Array>): number;
  hget(key: string, field: string): Uint8Array | null;
  hgetall(key: string): Record<string, Uint8Array>;
  hdel(key: string, fields: string[]): number;
  hlen(key: string): number;
  hincrBy(key: string, field: string, by: number): number;
  zadd(key: string, members: ScoredMember[]): number;
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit): string[];
  zrem(key: string, members: string[]): number;
  zcard(key: string): number;
}

/**
 * The in-memory twin of a Lua script. `args` arrive as bytes, exactly what Lua sees
 * as ARGV strings; use {@link argString} and {@link argNumber} to read them.
 * It must return what the Lua script returns, mapped as {@link ScriptReply} says.
 */
export type MemoryScript = (store: MemoryStore, keys: string[], args: Uint8Array[]) => ScriptReply;

/** An atomic server-side operation, defined once for every driver. */
export interface KVScript {
  readonly name: string;
  readonly lua: string;
  /** SHA-1 of `lua`, for EVALSHA. */
  readonly sha1: string;
  readonly memory: MemoryScript;
}

/** Definition passed to {@link defineScript}. */
export interface ScriptDefinition {
  /** Short name used in errors and logs. */
  name: string;
  /** The Lua body, run with EVALSHA/EVAL on Redis. */
  lua: string;
  /** The same behaviour for the in-memory driver. */
  memory: MemoryScript;
}

/** Defines an atomic operation: Lua for Redis and its twin for the in-memory driver, side by side. */
export function defineScript(definition: ScriptDefinition): KVScript {
  if (definition === null || typeof definition !== 'object') throw new KVError('INVALID_ARGUMENT', 'defineScript takes { name, lua, memory }');
  checkOptionsObject(definition, ['name', 'lua', 'memory'], 'defineScript');
  if (typeof definition.name !== 'string' || definition.name === '') throw new KVError('INVALID_ARGUMENT', 'script name must be a non-empty string');
  if (typeof definition.lua !== 'string' || definition.lua === '')
    throw new KVError('INVALID_ARGUMENT', `script "${definition.name}": lua must be a non-empty string`);
  if (typeof definition.memory !== 'function')
    throw new KVError('INVALID_ARGUMENT', `script "${definition.name}": memory must be a function (the in-memory twin)`);
  return Object.freeze({
    name: definition.name,
    lua: definition.lua,
    sha1: createHash('sha1').update(definition.lua).digest('hex'),
    memory: definition.memory,
  });
}

const utf8Decoder = new TextDecoder();

/** Reads a script argument as a UTF-8 string. */
export function argString(arg: Uint8Array | undefined): string {
  return arg === undefined ? '' : utf8Decoder.decode(arg);
}

/** Reads a script argument as a number, as Lua's `tonumber` would (NaN when it is not one). */
export function argNumber(arg: Uint8Array | undefined): number {
  const text = argString(arg).trim();
  return text === '' ? Number.NaN : Number(text);
}
