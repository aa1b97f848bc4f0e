import type {
  BatchOptions,
  KVArg,
  KVBatch,
  KVDriver,
  RangeLimit,
  ScanOptions,
  ScoredMember,
  ScriptReply,
  SetOptions,
} from '../driver.js';
import { arrayArg, keyArg, keyList, optionsArg, stringArg } from '../shared/arguments.js';
import { KVError } from '../shared/errors.js';
import { toKVError } from './error-mapping.js';
import { formatArgNumber } from '../shared/script-args.js';
import type { KVScript } from '../script.js';
import { groupBySlot, keySlot } from '../cluster/slot.js';

/** An argument as the client libraries take it: keys and numbers as strings, values as Buffers. */
export type RespArg = string | Buffer;

/** A node that can run a command on its own (used to SCAN every master of a cluster). */
export interface RespNode {
  send(args: RespArg[]): Promise<unknown>;
}

/**
 * What a client library must provide for {@link RespDriver}: raw commands with bulk
 * strings as Buffers (RESP2 shapes), pipelines, and the masters to scan. The ioredis and
 * node-redis drivers are thin transports; everything else is shared so both behave alike.
 */
export interface RespTransport {
  readonly driverName: string;
  readonly isCluster: boolean;
  /** The resolved `commandTimeoutMs` of the connection. */
  readonly commandTimeoutMs: number;
  /**
   * True when the client serialises arguments after the call returns (node-redis writes on
   * a later tick), so caller-owned bytes must be copied to stay as they were at call time.
   */
  readonly writesLater: boolean;
  /** `undefined` when commands may go out now, else a promise to await (rejects with a KVError). */
  gate(): Promise<void> | undefined;
  connect(): Promise<void>;
  /** Sends one command; on a cluster `routeKey` picks the node. */
  send(args: RespArg[], routeKey: string | undefined): Promise<unknown>;
  /**
   * The hot path: like {@link send} with the reply converted by `onReply` and failures
   * mapped by `onError` (which returns the error to reject with), settled through a
   * single promise so each command costs as few allocations as possible.
   */
  sendMapped<T>(args: RespArg[], routeKey: string | undefined, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T>;
  /**
   * Sends commands in one round trip (MULTI/EXEC when `atomic`). Resolves with one entry
   * per command: its reply, or the `Error` it failed with. Rejects when the batch as a
   * whole could not run.
   */
  batch(commands: RespArg[][], atomic: boolean, routeKey: string | undefined): Promise<unknown[]>;
  /** Every master (the one node on a single-node setup). */
  masters(): Promise<RespNode[]>;
  close(): Promise<void>;
}

type Convert<T> = (reply: unknown) => T;

/** Formats a bad argument for an error message; `String()` itself throws on some objects. */
function shown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function toBuffer(value: Uint8Array): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (!(value instanceof Uint8Array)) throw new KVError('INVALID_ARGUMENT', `value must be a Uint8Array, got ${typeof value}`);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function argOf(value: KVArg): RespArg {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatArgNumber(value);
  return toBuffer(value);
}

/** Zero-copy view of a Buffer as a plain `Uint8Array`. */
export function bytesOf(reply: unknown): Uint8Array {
  if (reply instanceof Uint8Array) return new Uint8Array(reply.buffer, reply.byteOffset, reply.byteLength);
  if (typeof reply === 'string') return new Uint8Array(Buffer.from(reply));
  if (typeof reply === 'number') return new Uint8Array(Buffer.from(String(reply)));
  throw new KVError('COMMAND_FAILED', `unexpected reply type ${typeof reply}`);
}

const textDecoder = new TextDecoder();
function textOf(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return textDecoder.decode(reply);
  return String(reply);
}

const bytesOrNull: Convert<Uint8Array | null> = (reply) => (reply === null || reply === undefined ? null : bytesOf(reply));
const asNumber: Convert<number> = (reply) => (typeof reply === 'number' ? reply : Number(textOf(reply)));
const asBoolean: Convert<boolean> = (reply) => asNumber(reply) === 1;
const asVoid: Convert<void> = () => undefined;
const setReply: Convert<boolean> = (reply) => reply !== null && reply !== undefined;
const bytesList: Convert<Uint8Array[]> = (reply) => (reply as unknown[]).map(bytesOf);
const stringList: Convert<string[]> = (reply) => (reply as unknown[]).map(textOf);
const hashReply: Convert<Record<string, Uint8Array>> = (reply) => {
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
const memoryReply: Convert<number | null> = (reply) => (reply === null || reply === undefined ? null : asNumber(reply));

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

function scoreArg(score: number, name: string): string {
  if (typeof score !== 'number' || Number.isNaN(score)) throw new KVError('INVALID_ARGUMENT', `${name} must be a number, got ${shown(score)}`);
  if (score === Number.POSITIVE_INFINITY) return '+inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  return String(score);
}

function ttlArg(ttlMs: number, name = 'ttlMs'): string {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new KVError('INVALID_ARGUMENT', `${name} must be a positive integer of milliseconds, got ${shown(ttlMs)}`);
  return String(ttlMs);
}

function integerArg(value: number, name: string): string {
  if (!Number.isSafeInteger(value)) throw new KVError('INVALID_ARGUMENT', `${name} must be a safe integer, got ${shown(value)}`);
  return String(value);
}


/** Anything thrown while building a command that is not a KVError yet becomes one. */
function asInvalid(error: unknown): KVError {
  if (error instanceof KVError) return error;
  return new KVError('INVALID_ARGUMENT', `invalid argument: ${error instanceof Error ? error.message : shown(error)}`, { cause: error });
}

/** One command ready to go: its arguments, reply conversion and routing key. */
interface Planned<T> {
  command: string;
  args: RespArg[];
  routeKey: string | undefined;
  convert: Convert<T>;
  script?: string;
  /** Known answer without a round trip (e.g. HDEL with no fields). */
  immediate?: { value: T };
}

function plan<T>(command: string, args: RespArg[], routeKey: string | undefined, convert: Convert<T>): Planned<T> {
  return { command, args, routeKey, convert };
}

function immediate<T>(command: string, routeKey: string | undefined, value: T): Planned<T> {
  return { command, args: [], routeKey, convert: () => value, immediate: { value } };
}

function setArgs(key: string, value: Uint8Array, given: SetOptions | undefined): RespArg[] {
  const options = optionsArg(given, 'set options');
  const args: RespArg[] = ['SET', keyArg(key), toBuffer(value)];
  if (options?.ttlMs !== undefined) args.push('PX', ttlArg(options.ttlMs));
  if (options?.mode !== undefined) {
    if (options.mode !== 'NX' && options.mode !== 'XX') throw new KVError('INVALID_ARGUMENT', `mode must be NX or XX, got ${shown(options.mode)}`);
    args.push(options.mode);
  }
  return args;
}

/**
 * The commands of the contract as plans, shared by direct calls and batches. Scripts
 * are planned by the caller because direct calls use EVALSHA and batches use EVAL.
 */
const plans = {
  get: (key: string) => plan('GET', ['GET', keyArg(key)], key, bytesOrNull),
  set: (key: string, value: Uint8Array, options?: SetOptions) => plan('SET', setArgs(key, value, options), key, setReply),
  del: (keys: string[]) => (arrayArg(keys, 'keys').length === 0 ? immediate('DEL', undefined, 0) : plan('DEL', ['DEL', ...keyList(keys)], keys[0], asNumber)),
  exists: (key: string) => plan('EXISTS', ['EXISTS', keyArg(key)], key, asBoolean),
  incrBy: (key: string, by: number) => plan('INCRBY', ['INCRBY', keyArg(key), integerArg(by, 'by')], key, asNumber),
  pexpire: (key: string, ttlMs: number) => plan('PEXPIRE', ['PEXPIRE', keyArg(key), integerArg(ttlMs, 'ttlMs')], key, asBoolean),
  pttl: (key: string) => plan('PTTL', ['PTTL', keyArg(key)], key, asNumber),
  rpush: (key: string, values: Uint8Array[]) =>
    arrayArg(values, 'values').length === 0
      ? plan('LLEN', ['LLEN', keyArg(key)], key, asNumber)
      : plan('RPUSH', ['RPUSH', keyArg(key), ...values.map(toBuffer)], key, asNumber),
  lrange: (key: string, start: number, stop: number) =>
    plan('LRANGE', ['LRANGE', keyArg(key), integerArg(start, 'start'), integerArg(stop, 'stop')], key, bytesList),
  llen: (key: string) => plan('LLEN', ['LLEN', keyArg(key)], key, asNumber),
  ltrim: (key: string, start: number, stop: number) =>
    plan('LTRIM', ['LTRIM', keyArg(key), integerArg(start, 'start'), integerArg(stop, 'stop')], key, asVoid),
  hset: (key: string, fields: Record<string, Uint8Array>) => {
    const args: RespArg[] = ['HSET', keyArg(key)];
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) throw new KVError('INVALID_ARGUMENT', `hset fields must be an object of field → bytes, got ${fields === null ? 'null' : typeof fields}`);
    for (const [field, value] of Object.entries(fields)) args.push(field, toBuffer(value));
    return args.length === 2 ? immediate('HSET', key, 0) : plan('HSET', args, key, asNumber);
  },
  hget: (key: string, field: string) => plan('HGET', ['HGET', keyArg(key), stringArg(field, 'field')], key, bytesOrNull),
  hgetall: (key: string) => plan('HGETALL', ['HGETALL', keyArg(key)], key, hashReply),
  hdel: (key: string, fields: string[]) =>
    arrayArg(fields, 'fields').length === 0 ? immediate('HDEL', key, 0) : plan('HDEL', ['HDEL', keyArg(key), ...fields.map((field) => stringArg(field, 'field'))], key, asNumber),
  hincrBy: (key: string, field: string, by: number) => plan('HINCRBY', ['HINCRBY', keyArg(key), stringArg(field, 'field'), integerArg(by, 'by')], key, asNumber),
  zadd: (key: string, members: ScoredMember[]) => {
    if (arrayArg(members, 'members').length === 0) return immediate('ZADD', key, 0);
    const args: RespArg[] = ['ZADD', keyArg(key)];
    for (const entry of members) {
      if (entry === null || typeof entry !== 'object') throw new KVError('INVALID_ARGUMENT', `zadd members must be { score, member } objects, got ${entry === null ? 'null' : typeof entry}`);
      args.push(scoreArg(entry.score, 'score'), stringArg(entry.member, 'member'));
    }
    return plan('ZADD', args, key, asNumber);
  },
  zrangeByScore: (key: string, min: number, max: number, given?: RangeLimit) => {
    const limit = optionsArg(given, 'limit');
    const args: RespArg[] = ['ZRANGEBYSCORE', keyArg(key), scoreArg(min, 'min'), scoreArg(max, 'max')];
    if (limit !== undefined) args.push('LIMIT', integerArg(limit.offset, 'limit.offset'), integerArg(limit.count, 'limit.count'));
    return plan('ZRANGEBYSCORE', args, key, stringList);
  },
  zrem: (key: string, members: string[]) =>
    arrayArg(members, 'members').length === 0 ? immediate('ZREM', key, 0) : plan('ZREM', ['ZREM', keyArg(key), ...members.map((member) => stringArg(member, 'member'))], key, asNumber),
  zcard: (key: string) => plan('ZCARD', ['ZCARD', keyArg(key)], key, asNumber),
};

/** Replaces caller-owned byte arguments by copies, in place. */
function copyByteArgs(args: RespArg[]): void {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (typeof arg !== 'string') args[index] = Buffer.from(arg);
  }
}

function scriptArgs(command: 'EVALSHA' | 'EVAL', body: string, keys: string[], args: KVArg[]): RespArg[] {
  return [command, body, String(arrayArg(keys, 'script keys').length), ...keys.map(keyArg), ...arrayArg(args, 'script args').map(argOf)];
}

function scriptArg(script: KVScript): KVScript {
  if (script === null || typeof script !== 'object' || typeof script.sha1 !== 'string' || typeof script.lua !== 'string') {
    throw new KVError('INVALID_ARGUMENT', 'eval takes a script made by defineScript()');
  }
  return script;
}

class Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly #reject: (error: unknown) => void;

  constructor(promise: Promise<T>, resolve: (value: T) => void, reject: (error: unknown) => void) {
    this.promise = promise;
    this.resolve = resolve;
    this.#reject = reject;
  }

  reject(error: unknown): void {
    // The batch's exec() reports failures too; callers that only await exec() must not
    // trip unhandled-rejection warnings for the per-command promises they ignored.
    // Marked handled only when rejecting, so the success path costs no extra promise.
    this.promise.catch(() => undefined);
    this.#reject(error);
  }
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return new Deferred(promise, resolve, reject);
}

interface Queued {
  planned: Planned<unknown>;
  /** Set when the arguments were invalid: the command never goes out. */
  invalid?: KVError;
  result: Deferred<unknown>;
}

/** {@link KVDriver} on top of a {@link RespTransport}. */
export class RespDriver implements KVDriver {
  readonly driverName: string;
  readonly isCluster: boolean;
  readonly commandTimeoutMs: number;
  readonly #transport: RespTransport;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(transport: RespTransport) {
    this.#transport = transport;
    this.driverName = transport.driverName;
    this.isCluster = transport.isCluster;
    this.commandTimeoutMs = transport.commandTimeoutMs;
  }

  #closedError(command: string): KVError {
    return new KVError('CLIENT_CLOSED', `${this.driverName}: ${command} called after close()`);
  }

  #fail(error: unknown, command: string, script?: string): KVError {
    if (this.#closed && !(error instanceof KVError && error.code !== 'CONNECTION_LOST')) return this.#closedError(command);
    return toKVError(error, script === undefined ? { command, driver: this.driverName } : { command, script, driver: this.driverName });
  }

  /** Sends one planned command, waiting on the connection gate only when not ready. */
  #run<T>(planned: Planned<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError(planned.command));
    if (planned.immediate) return Promise.resolve(planned.immediate.value);
    if (this.#transport.writesLater) copyByteArgs(planned.args);
    const gate = this.#transport.gate();
    if (gate !== undefined) return gate.then(() => this.#send(planned), (error: unknown) => Promise.reject(this.#fail(error, planned.command)));
    return this.#send(planned);
  }

  #send<T>(planned: Planned<T>): Promise<T> {
    return this.#transport.sendMapped(planned.args, planned.routeKey, planned.convert, (error: unknown) => this.#fail(error, planned.command, planned.script));
  }

  /** Builds the plan, turning argument validation errors into rejections. */
  #call<T>(build: () => Planned<T>): Promise<T> {
    let planned: Planned<T>;
    try {
      planned = build();
    } catch (error) {
      return Promise.reject(asInvalid(error));
    }
    return this.#run(planned);
  }

  async connect(): Promise<void> {
    if (this.#closed) throw this.#closedError('connect');
    try {
      await this.#transport.connect();
    } catch (error) {
      throw this.#fail(error, 'CONNECT');
    }
  }

  async ping(): Promise<void> {
    if (this.#closed) throw this.#closedError('PING');
    const gate = this.#transport.gate();
    try {
      if (gate !== undefined) await gate;
      const nodes = this.isCluster ? await this.#transport.masters() : undefined;
      if (nodes === undefined) await this.#transport.send(['PING'], undefined);
      else await Promise.all(nodes.map((node) => node.send(['PING'])));
    } catch (error) {
      throw this.#fail(error, 'PING');
    }
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = this.#transport.close().catch(() => undefined);
    return this.#closing;
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.#call(() => plans.get(key));
  }

  set(key: string, value: Uint8Array, options?: SetOptions): Promise<boolean> {
    return this.#call(() => plans.set(key, value, options));
  }

  async mget(keys: string[]): Promise<(Uint8Array | null)[]> {
    keyList(keys);
    if (keys.length === 0) {
      if (this.#closed) throw this.#closedError('MGET');
      return [];
    }
    if (!this.isCluster) return this.#call(() => plan('MGET', ['MGET', ...keys.map(keyArg)], keys[0], (reply) => (reply as unknown[]).map(bytesOrNull)));
    const out = new Array<Uint8Array | null>(keys.length);
    await Promise.all(
      [...groupBySlot(keys).values()].map(async (indexes) => {
        const slotKeys = indexes.map((index) => keys[index]!);
        const values = await this.#call(() => plan('MGET', ['MGET', ...slotKeys.map(keyArg)], slotKeys[0], (reply) => (reply as unknown[]).map(bytesOrNull)));
        indexes.forEach((index, position) => {
          out[index] = values[position] ?? null;
        });
      }),
    );
    return out;
  }

  async mset(entries: Iterable<readonly [string, Uint8Array]>, options?: { ttlMs?: number }): Promise<void> {
    if (this.#closed) throw this.#closedError('MSET');
    if (entries === null || typeof entries !== 'object' || typeof (entries as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new KVError('INVALID_ARGUMENT', 'mset takes an iterable of [key, bytes] pairs');
    }
    let list: (readonly [string, Uint8Array])[];
    try {
      list = [...entries];
    } catch (error) {
      throw asInvalid(error);
    }
    for (const entry of list) {
      if (!Array.isArray(entry) || entry.length !== 2) throw new KVError('INVALID_ARGUMENT', 'mset entries must be [key, bytes] pairs');
      keyArg(entry[0]);
      toBuffer(entry[1]);
    }
    if (list.length === 0) return;
    optionsArg(options, 'mset options');
    const ttl = options?.ttlMs === undefined ? undefined : ttlArg(options.ttlMs);
    const groups = this.isCluster ? [...groupBySlot(list.map(([key]) => key)).values()] : [list.map((_, index) => index)];
    await Promise.all(
      groups.map(async (indexes) => {
        const group = indexes.map((index) => list[index]!);
        if (ttl === undefined) {
          const args: RespArg[] = ['MSET'];
          for (const [key, value] of group) args.push(keyArg(key), toBuffer(value));
          await this.#run(plan('MSET', args, group[0]![0], asVoid));
          return;
        }
        // MSET has no TTL form: SET … PX per key, sent together as one pipeline.
        const batch = this.batch();
        for (const [key, value] of group) void batch.set(key, value, { ttlMs: options!.ttlMs! });
        await batch.exec();
      }),
    );
  }

  async del(keys: string[]): Promise<number> {
    if (!this.isCluster || !Array.isArray(keys) || keys.length <= 1) return this.#call(() => plans.del(keys));
    keyList(keys);
    const counts = await Promise.all(
      [...groupBySlot(keys).values()].map((indexes) => this.#call(() => plans.del(indexes.map((index) => keys[index]!)))),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  exists(key: string): Promise<boolean> {
    return this.#call(() => plans.exists(key));
  }
  incrBy(key: string, by: number): Promise<number> {
    return this.#call(() => plans.incrBy(key, by));
  }
  pexpire(key: string, ttlMs: number): Promise<boolean> {
    return this.#call(() => plans.pexpire(key, ttlMs));
  }
  pttl(key: string): Promise<number> {
    return this.#call(() => plans.pttl(key));
  }
  rpush(key: string, values: Uint8Array[]): Promise<number> {
    return this.#call(() => plans.rpush(key, values));
  }
  lrange(key: string, start: number, stop: number): Promise<Uint8Array[]> {
    return this.#call(() => plans.lrange(key, start, stop));
  }
  llen(key: string): Promise<number> {
    return this.#call(() => plans.llen(key));
  }
  ltrim(key: string, start: number, stop: number): Promise<void> {
    return this.#call(() => plans.ltrim(key, start, stop));
  }
  hset(key: string, fields: Record<string, Uint8Array>): Promise<number> {
    return this.#call(() => plans.hset(key, fields));
  }
  hget(key: string, field: string): Promise<Uint8Array | null> {
    return this.#call(() => plans.hget(key, field));
  }
  hgetall(key: string): Promise<Record<string, Uint8Array>> {
    return this.#call(() => plans.hgetall(key));
  }
  hdel(key: string, fields: string[]): Promise<number> {
    return this.#call(() => plans.hdel(key, fields));
  }
  hincrBy(key: string, field: string, by: number): Promise<number> {
    return this.#call(() => plans.hincrBy(key, field, by));
  }
  zadd(key: string, members: ScoredMember[]): Promise<number> {
    return this.#call(() => plans.zadd(key, members));
  }
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit): Promise<string[]> {
    return this.#call(() => plans.zrangeByScore(key, min, max, limit));
  }
  zrem(key: string, members: string[]): Promise<number> {
    return this.#call(() => plans.zrem(key, members));
  }
  zcard(key: string): Promise<number> {
    return this.#call(() => plans.zcard(key));
  }

  memoryUsage(key: string): Promise<number | null> {
    return this.#call(() => plan('MEMORY', ['MEMORY', 'USAGE', keyArg(key)], key, memoryReply));
  }

  async *scan(options: ScanOptions): AsyncIterable<string> {
    if (this.#closed) throw this.#closedError('SCAN');
    if (options === null || typeof options !== 'object') throw new KVError('INVALID_ARGUMENT', `scan takes { match, count? }, got ${options === null ? 'null' : typeof options}`);
    stringArg(options.match, 'scan match');
    const count = options.count ?? 250;
    if (!Number.isInteger(count) || count <= 0) throw new KVError('INVALID_ARGUMENT', `scan count must be a positive integer, got ${shown(count)}`);
    let nodes: RespNode[];
    try {
      const gate = this.#transport.gate();
      if (gate !== undefined) await gate;
      nodes = await this.#transport.masters();
    } catch (error) {
      throw this.#fail(error, 'SCAN');
    }
    for (const node of nodes) {
      let cursor = '0';
      do {
        if (this.#closed) throw this.#closedError('SCAN');
        let reply: unknown;
        try {
          reply = await node.send(['SCAN', cursor, 'MATCH', options.match, 'COUNT', String(count)]);
        } catch (error) {
          throw this.#fail(error, 'SCAN');
        }
        const [next, keys] = reply as [unknown, unknown[]];
        cursor = textOf(next);
        for (const key of keys) yield textOf(key);
      } while (cursor !== '0');
    }
  }

  async eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply> {
    if (this.#closed) throw this.#closedError('EVALSHA');
    scriptArg(script);
    keyList(keys, 'script keys');
    if (this.isCluster && keys.length > 1) {
      const slot = keySlot(keys[0]!);
      if (keys.some((key) => keySlot(key) !== slot)) {
        throw new KVError('CROSS_SLOT', `${this.driverName}: script "${script.name}" keys span several cluster slots; put them under one hash tag like {session}`);
      }
    }
    let scriptCall: RespArg[];
    try {
      scriptCall = scriptArgs('EVALSHA', script.sha1, keys, args);
    } catch (error) {
      throw asInvalid(error);
    }
    const planned: Planned<ScriptReply> = {
      command: 'EVALSHA',
      args: scriptCall,
      routeKey: keys[0],
      convert: scriptReplyOf,
      script: script.name,
    };
    try {
      return await this.#run(planned);
    } catch (error) {
      if (!(error instanceof KVError && error.code === 'SCRIPT_ERROR' && isNoScript(error.cause))) throw error;
      // This node has not cached the script (new, restarted or flushed): EVAL sends the
      // body, which also caches it there, so the next EVALSHA succeeds.
      return this.#run({ ...planned, command: 'EVAL', args: scriptArgs('EVAL', script.lua, keys, args) });
    }
  }

  batch(options?: BatchOptions): KVBatch {
    optionsArg(options, 'batch options');
    return new RespBatch(this, this.#transport, options?.atomic === true, (error, command, script) => this.#fail(error, command, script), () => this.#closed);
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

class RespBatch implements KVBatch {
  readonly #queue: Queued[] = [];
  readonly #transport: RespTransport;
  readonly #atomic: boolean;
  readonly #driver: RespDriver;
  readonly #fail: (error: unknown, command: string, script?: string) => KVError;
  readonly #isClosed: () => boolean;
  #executed = false;

  constructor(
    driver: RespDriver,
    transport: RespTransport,
    atomic: boolean,
    fail: (error: unknown, command: string, script?: string) => KVError,
    isClosed: () => boolean,
  ) {
    this.#driver = driver;
    this.#transport = transport;
    this.#atomic = atomic;
    this.#fail = fail;
    this.#isClosed = isClosed;
  }

  #add<T>(build: () => Planned<T>): Promise<T> {
    const result = deferred<unknown>();
    if (this.#executed) {
      result.reject(new KVError('INVALID_ARGUMENT', 'batch commands must be queued before exec()'));
      return result.promise as Promise<T>;
    }
    try {
      const planned = build() as Planned<unknown>;
      // The caller may reuse its buffers before exec(): keep the bytes as they are now.
      copyByteArgs(planned.args);
      this.#queue.push({ planned, result });
    } catch (error) {
      // Invalid arguments fail this command now, and exec() fails without sending anything.
      const invalid = error instanceof KVError ? error : new KVError('INVALID_ARGUMENT', String(error), { cause: error });
      this.#queue.push({ planned: immediate('INVALID', undefined, undefined), invalid, result });
      result.reject(invalid);
    }
    return result.promise as Promise<T>;
  }

  get(key: string) {
    return this.#add(() => plans.get(key));
  }
  set(key: string, value: Uint8Array, options?: SetOptions) {
    return this.#add(() => plans.set(key, value, options));
  }
  del(keys: string[]) {
    return this.#add(() => plans.del(keys));
  }
  exists(key: string) {
    return this.#add(() => plans.exists(key));
  }
  incrBy(key: string, by: number) {
    return this.#add(() => plans.incrBy(key, by));
  }
  pexpire(key: string, ttlMs: number) {
    return this.#add(() => plans.pexpire(key, ttlMs));
  }
  pttl(key: string) {
    return this.#add(() => plans.pttl(key));
  }
  rpush(key: string, values: Uint8Array[]) {
    return this.#add(() => plans.rpush(key, values));
  }
  lrange(key: string, start: number, stop: number) {
    return this.#add(() => plans.lrange(key, start, stop));
  }
  llen(key: string) {
    return this.#add(() => plans.llen(key));
  }
  ltrim(key: string, start: number, stop: number) {
    return this.#add(() => plans.ltrim(key, start, stop));
  }
  hset(key: string, fields: Record<string, Uint8Array>) {
    return this.#add(() => plans.hset(key, fields));
  }
  hget(key: string, field: string) {
    return this.#add(() => plans.hget(key, field));
  }
  hgetall(key: string) {
    return this.#add(() => plans.hgetall(key));
  }
  hdel(key: string, fields: string[]) {
    return this.#add(() => plans.hdel(key, fields));
  }
  hincrBy(key: string, field: string, by: number) {
    return this.#add(() => plans.hincrBy(key, field, by));
  }
  zadd(key: string, members: ScoredMember[]) {
    return this.#add(() => plans.zadd(key, members));
  }
  zrangeByScore(key: string, min: number, max: number, limit?: RangeLimit) {
    return this.#add(() => plans.zrangeByScore(key, min, max, limit));
  }
  zrem(key: string, members: string[]) {
    return this.#add(() => plans.zrem(key, members));
  }
  zcard(key: string) {
    return this.#add(() => plans.zcard(key));
  }
  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply> {
    // EVAL, not EVALSHA: a NOSCRIPT inside a pipeline or MULTI could not be retried
    // without reordering or breaking atomicity, and EVAL also caches the script.
    return this.#add(() => ({
      command: 'EVAL',
      args: scriptArgs('EVAL', scriptArg(script).lua, keys, args),
      routeKey: keys[0],
      convert: scriptReplyOf,
      script: script.name,
    }));
  }

  async exec(): Promise<void> {
    if (this.#executed) throw new KVError('INVALID_ARGUMENT', 'exec() was already called on this batch');
    this.#executed = true;
    const queue = this.#queue;
    const rejectAll = (error: KVError): never => {
      for (const entry of queue) entry.result.reject(error);
      throw error;
    };
    const invalid = queue.find((entry) => entry.invalid !== undefined)?.invalid;
    if (invalid) rejectAll(invalid);
    if (this.#isClosed()) rejectAll(new KVError('CLIENT_CLOSED', `${this.#driver.driverName}: batch exec() after close()`));
    const toSend = queue.filter((entry) => entry.planned.immediate === undefined);
    let routeKey: string | undefined;
    if (this.#transport.isCluster) {
      const keys = toSend.map((entry) => entry.planned.routeKey).filter((key): key is string => key !== undefined);
      const allKeys = toSend.flatMap((entry) => batchKeysOf(entry.planned));
      routeKey = keys[0];
      if (allKeys.length > 0) {
        const slot = keySlot(allKeys[0]!);
        if (allKeys.some((key) => keySlot(key) !== slot)) {
          rejectAll(new KVError('CROSS_SLOT', `${this.#driver.driverName}: a batch on Redis Cluster must keep all its keys in one slot; use one hash tag like {session}`));
        }
      }
    }
    for (const entry of queue) if (entry.planned.immediate) entry.result.resolve(entry.planned.immediate.value);
    if (toSend.length === 0) return;
    let replies: unknown[];
    try {
      const gate = this.#transport.gate();
      if (gate !== undefined) await gate;
      replies = await this.#transport.batch(
        toSend.map((entry) => entry.planned.args),
        this.#atomic,
        routeKey,
      );
    } catch (error) {
      return rejectAll(this.#fail(error, this.#atomic ? 'MULTI/EXEC' : 'PIPELINE'));
    }
    let firstError: KVError | undefined;
    toSend.forEach((entry, index) => {
      const reply = replies[index];
      if (reply instanceof Error) {
        const error = this.#fail(reply, entry.planned.command, entry.planned.script);
        firstError ??= error;
        entry.result.reject(error);
        return;
      }
      try {
        entry.result.resolve(entry.planned.convert(reply));
      } catch (error) {
        const kvError = this.#fail(error, entry.planned.command);
        firstError ??= kvError;
        entry.result.reject(kvError);
      }
    });
    if (firstError) throw firstError;
  }
}

/** Keys a planned command touches, for the one-slot check of cluster batches. */
function batchKeysOf(planned: Planned<unknown>): string[] {
  const [command] = planned.args;
  if (command === 'DEL') return planned.args.slice(1) as string[];
  if (command === 'EVAL' || command === 'EVALSHA') {
    const count = Number(planned.args[2]);
    return planned.args.slice(3, 3 + count) as string[];
  }
  return planned.routeKey === undefined ? [] : [planned.routeKey];
}
