import type { KVArg, ScriptReply, SetOptions } from '../driver.js';
import type { KVScript } from '../script.js';
import { arrayArg, keyArg, optionsArg } from '../shared/arguments.js';
import { KVError } from '../shared/errors.js';
import { formatArgNumber } from '../shared/script-args.js';

// How a command of the contract becomes RESP arguments and how its reply comes back:
// the pieces the command table is built from, shared by every Redis client driver.

/** An argument as the client libraries take it: keys and numbers as strings, values as Buffers. */
export type RespArg = string | Buffer;

/**
 * An argument as a command is planned: values stay the caller's bytes until the driver
 * knows whether the client needs a copy ({@link wireArgs}), so no view is made to be
 * thrown away.
 */
export type CommandArg = string | Uint8Array;

export type Convert<T> = (reply: unknown) => T;

/** Formats a bad argument for an error message; `String()` itself throws on some objects. */
export function shown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Checks a value argument; the bytes themselves are left for {@link wireArgs}. */
export function bytesArg(value: Uint8Array): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new KVError('INVALID_ARGUMENT', `value must be a Uint8Array, got ${typeof value}`);
  return value;
}

export function toBuffer(value: Uint8Array): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (!(value instanceof Uint8Array)) throw new KVError('INVALID_ARGUMENT', `value must be a Uint8Array, got ${typeof value}`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function argOf(value: KVArg): CommandArg {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatArgNumber(value);
  return bytesArg(value);
}

/** Zero-copy view of a Buffer as a plain `Uint8Array`. */
export function bytesOf(reply: unknown): Uint8Array {
  if (reply instanceof Uint8Array) return new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength);
  if (typeof reply === 'string') return new Uint8Array(Buffer.from(reply));
  if (typeof reply === 'number') return new Uint8Array(Buffer.from(String(reply)));
  throw new KVError('COMMAND_FAILED', `unexpected reply type ${typeof reply}`);
}

const textDecoder = new TextDecoder();
export function textOf(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return textDecoder.decode(reply);
  return String(reply);
}

export const bytesOrNull: Convert<Uint8Array | null> = (reply) => (reply === null || reply === undefined ? null : bytesOf(reply));
export const asNumber: Convert<number> = (reply) => (typeof reply === 'number' ? reply : Number(textOf(reply)));
export const asBoolean: Convert<boolean> = (reply) => asNumber(reply) === 1;
export const asVoid: Convert<void> = () => undefined;
export const setReply: Convert<boolean> = (reply) => reply !== null && reply !== undefined;
export const bytesList: Convert<Uint8Array[]> = (reply) => (reply as unknown[]).map(bytesOf);
export const stringList: Convert<string[]> = (reply) => (reply as unknown[]).map(textOf);
export const hashReply: Convert<Record<string, Uint8Array>> = (reply) => {
  const entries: [string, Uint8Array][] = [];
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push([textOf(reply[i]), bytesOf(reply[i + 1])]);
  } else if (reply instanceof Map) {
    for (const [field, value] of reply) entries.push([textOf(field), bytesOf(value)]);
  } else if (reply !== null && typeof reply === 'object') {
    for (const [field, value] of Object.entries(reply)) entries.push([field, bytesOf(value)]);
  }
  // fromEntries defines own properties, so a field named "__proto__" stays a field.
  return Object.fromEntries(entries);
};
export const memoryReply: Convert<number | null> = (reply) => (reply === null || reply === undefined ? null : asNumber(reply));

/** Maps a raw script reply as {@link ScriptReply} says (RESP2 semantics). */
export function scriptReplyOf(reply: unknown): ScriptReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'number') return reply;
  // Integer replies arrive as decimal text (see "exact integers" in the transports).
  if (typeof reply === 'string') return Number(reply);
  if (typeof reply === 'bigint') return Number(reply);
  if (typeof reply === 'boolean') return reply ? 1 : null;
  if (Array.isArray(reply)) return reply.map(scriptReplyOf);
  return bytesOf(reply);
}

export function scoreArg(score: number, name: string): string {
  if (typeof score !== 'number' || Number.isNaN(score)) throw new KVError('INVALID_ARGUMENT', `${name} must be a number, got ${shown(score)}`);
  if (score === Number.POSITIVE_INFINITY) return '+inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  return String(score);
}

export function ttlArg(ttlMs: number, name = 'ttlMs'): string {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new KVError('INVALID_ARGUMENT', `${name} must be a positive integer of milliseconds, got ${shown(ttlMs)}`);
  return String(ttlMs);
}

export function integerArg(value: number, name: string): string {
  if (!Number.isSafeInteger(value)) throw new KVError('INVALID_ARGUMENT', `${name} must be a safe integer, got ${shown(value)}`);
  return String(value);
}

/** Anything thrown while building a command that is not a KVError yet becomes one. */
export function asInvalid(error: unknown): KVError {
  if (error instanceof KVError) return error;
  return new KVError('INVALID_ARGUMENT', `invalid argument: ${error instanceof Error ? error.message : shown(error)}`, { cause: error });
}

/** One command ready to go: its arguments, reply conversion and routing key. */
export interface Planned<T> {
  command: string;
  args: CommandArg[];
  routeKey: string | undefined;
  convert: Convert<T>;
  script?: string;
  /** Known answer without a round trip (e.g. HDEL with no fields). */
  immediate?: { value: T };
}

export function plan<T>(command: string, args: CommandArg[], routeKey: string | undefined, convert: Convert<T>): Planned<T> {
  return { command, args, routeKey, convert };
}

export function immediate<T>(command: string, routeKey: string | undefined, value: T): Planned<T> {
  return { command, args: [], routeKey, convert: () => value, immediate: { value } };
}

export function setArgs(key: string, value: Uint8Array, given: SetOptions | undefined): CommandArg[] {
  const options = optionsArg(given, 'set options');
  const args: CommandArg[] = ['SET', keyArg(key), bytesArg(value)];
  if (options?.ttlMs !== undefined) args.push('PX', ttlArg(options.ttlMs));
  if (options?.mode !== undefined) {
    if (options.mode !== 'NX' && options.mode !== 'XX') throw new KVError('INVALID_ARGUMENT', `mode must be NX or XX, got ${shown(options.mode)}`);
    args.push(options.mode);
  }
  return args;
}

/**
 * Turns planned arguments into what the client libraries take, in place: byte values as
 * copies when `copy` (the client writes later, or a batch runs later, and the caller may
 * reuse its array meanwhile), else as zero-copy Buffer views.
 */
export function wireArgs(args: CommandArg[], copy: boolean): RespArg[] {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (typeof arg !== 'string') args[index] = copy ? Buffer.from(arg) : toBuffer(arg);
  }
  return args as RespArg[];
}

export function scriptArgs(command: 'EVALSHA' | 'EVAL', body: string, keys: string[], args: KVArg[]): CommandArg[] {
  return [command, body, String(arrayArg(keys, 'script keys').length), ...keys.map(keyArg), ...arrayArg(args, 'script args').map(argOf)];
}

export function scriptArg(script: KVScript): KVScript {
  if (script === null || typeof script !== 'object' || typeof script.sha1 !== 'string' || typeof script.lua !== 'string') {
    throw new KVError('INVALID_ARGUMENT', 'eval takes a script made by defineScript()');
  }
  return script;
}
