import type { KVDriver, RangeLimit, ScoredMember } from '../driver.js';
import type { MemoryServer } from '../memory/server.js';
import { arrayArg, keyArg, keyList, optionsArg, stringArg } from '../shared/arguments.js';
import { KVError } from '../shared/errors.js';
import {
  asBoolean,
  asNumber,
  asVoid,
  bytesList,
  bytesOrNull,
  hashReply,
  immediate,
  integerArg,
  memoryReply,
  plan,
  scoreArg,
  setArgs,
  setReply,
  stringList,
  bytesArg,
  type Planned,
  type CommandArg,
} from './resp.js';

/**
 * One command of the contract, defined once for every driver (as node-redis generates
 * its commands from one file per command): how its arguments become RESP (`plan`: the
 * arguments, the reply conversion and the routing key), what it does on the in-memory
 * keyspace (`memory`), and how to snapshot caller-owned arguments when it is queued in
 * a batch that runs later (`snapshot`).
 */
export interface CommandSpec<A extends unknown[], R> {
  /** Validates the arguments (throwing a KVError) and builds the Redis command. */
  plan(...args: A): Planned<R>;
  /** The command on the in-memory keyspace; validates like `plan`, throws KVErrors. */
  memory(server: MemoryServer, ...args: A): R;
  /** Copies of the arguments a caller may still change (bytes, arrays, objects). */
  snapshot?(...args: A): A;
}

type Spec<M extends keyof KVDriver> = KVDriver[M] extends (...args: infer A) => Promise<infer R> ? CommandSpec<A, R> : never;

function copyBytes<T>(value: T): T {
  return (value instanceof Uint8Array ? new Uint8Array(value) : value) as T;
}

function copyList<T>(value: T[]): T[] {
  return Array.isArray(value) ? [...value] : value;
}

/**
 * The commands every driver runs the same way, one or several per round trip. The
 * driver classes, their batches and the pool's handles get a method per entry
 * ({@link installCommands}); `mget`, `mset`, `del` on a cluster, `eval` and `scan`
 * have their own code because they span slots, nodes or script caches.
 */
export const COMMANDS = {
  get: {
    plan: (key) => plan('GET', ['GET', keyArg(key)], key, bytesOrNull),
    memory: (server, key) => server.get(key),
  },
  set: {
    plan: (key, value, options) => plan('SET', setArgs(key, value, options), key, setReply),
    memory: (server, key, value, options) => server.set(key, value, optionsArg(options, 'set options')),
    // The caller may reuse its array before exec(), and Redis clients serialise at call time.
    snapshot: (key, value, options) => [key, copyBytes(value), options],
  },
  del: {
    plan: (keys) => (arrayArg(keys, 'keys').length === 0 ? immediate('DEL', undefined, 0) : plan('DEL', ['DEL', ...keyList(keys)], keys[0], asNumber)),
    memory: (server, keys) => server.del(keyList(keys)),
    snapshot: (keys) => [copyList(keys)],
  },
  exists: {
    plan: (key) => plan('EXISTS', ['EXISTS', keyArg(key)], key, asBoolean),
    memory: (server, key) => server.exists(key),
  },
  incrBy: {
    plan: (key, by) => plan('INCRBY', ['INCRBY', keyArg(key), integerArg(by, 'by')], key, asNumber),
    memory: (server, key, by) => server.incrBy(key, by),
  },
  pexpire: {
    plan: (key, ttlMs) => plan('PEXPIRE', ['PEXPIRE', keyArg(key), integerArg(ttlMs, 'ttlMs')], key, asBoolean),
    memory: (server, key, ttlMs) => server.pexpire(key, ttlMs),
  },
  pttl: {
    plan: (key) => plan('PTTL', ['PTTL', keyArg(key)], key, asNumber),
    memory: (server, key) => server.pttl(key),
  },
  rpush: {
    plan: (key, values) =>
      arrayArg(values, 'values').length === 0
        ? plan('LLEN', ['LLEN', keyArg(key)], key, asNumber)
        : plan('RPUSH', ['RPUSH', keyArg(key), ...values.map(bytesArg)], key, asNumber),
    memory: (server, key, values) => server.rpush(key, values),
    snapshot: (key, values) => [key, Array.isArray(values) ? values.map(copyBytes) : values],
  },
  lrange: {
    plan: (key, start, stop) => plan('LRANGE', ['LRANGE', keyArg(key), integerArg(start, 'start'), integerArg(stop, 'stop')], key, bytesList),
    memory: (server, key, start, stop) => server.lrange(key, start, stop),
  },
  llen: {
    plan: (key) => plan('LLEN', ['LLEN', keyArg(key)], key, asNumber),
    memory: (server, key) => server.llen(key),
  },
  ltrim: {
    plan: (key, start, stop) => plan('LTRIM', ['LTRIM', keyArg(key), integerArg(start, 'start'), integerArg(stop, 'stop')], key, asVoid),
    memory: (server, key, start, stop) => server.ltrim(key, start, stop),
  },
  hset: {
    plan: (key, fields) => {
      const args: CommandArg[] = ['HSET', keyArg(key)];
      if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
        throw new KVError('INVALID_ARGUMENT', `hset fields must be an object of field → bytes, got ${fields === null ? 'null' : typeof fields}`);
      }
      for (const [field, value] of Object.entries(fields)) args.push(field, bytesArg(value));
      return args.length === 2 ? immediate('HSET', key, 0) : plan('HSET', args, key, asNumber);
    },
    memory: (server, key, fields) => server.hset(key, fields),
    snapshot: (key, fields) => {
      if (fields === null || typeof fields !== 'object') return [key, fields];
      const copy: Record<string, Uint8Array> = {};
      // defineProperty, not assignment: a field named "__proto__" stays a field.
      for (const [field, value] of Object.entries(fields)) {
        Object.defineProperty(copy, field, { value: copyBytes(value), enumerable: true, writable: true, configurable: true });
      }
      return [key, copy];
    },
  },
  hget: {
    plan: (key, field) => plan('HGET', ['HGET', keyArg(key), stringArg(field, 'field')], key, bytesOrNull),
    memory: (server, key, field) => server.hget(key, stringArg(field, 'field')),
  },
  hgetall: {
    plan: (key) => plan('HGETALL', ['HGETALL', keyArg(key)], key, hashReply),
    memory: (server, key) => server.hgetall(key),
  },
  hdel: {
    plan: (key, fields) =>
      arrayArg(fields, 'fields').length === 0
        ? immediate('HDEL', key, 0)
        : plan('HDEL', ['HDEL', keyArg(key), ...fields.map((field) => stringArg(field, 'field'))], key, asNumber),
    memory: (server, key, fields) => server.hdel(key, fields),
    snapshot: (key, fields) => [key, copyList(fields)],
  },
  hincrBy: {
    plan: (key, field, by) => plan('HINCRBY', ['HINCRBY', keyArg(key), stringArg(field, 'field'), integerArg(by, 'by')], key, asNumber),
    memory: (server, key, field, by) => server.hincrBy(key, field, by),
  },
  zadd: {
    plan: (key, members) => {
      if (arrayArg(members, 'members').length === 0) return immediate('ZADD', key, 0);
      const args: CommandArg[] = ['ZADD', keyArg(key)];
      for (const entry of members) {
        if (entry === null || typeof entry !== 'object') {
          throw new KVError('INVALID_ARGUMENT', `zadd members must be { score, member } objects, got ${entry === null ? 'null' : typeof entry}`);
        }
        args.push(scoreArg(entry.score, 'score'), stringArg(entry.member, 'member'));
      }
      return plan('ZADD', args, key, asNumber);
    },
    memory: (server, key, members) => server.zadd(key, members),
    snapshot: (key, members) => [key, Array.isArray(members) ? members.map((member): ScoredMember => ({ ...member })) : members],
  },
  zrangeByScore: {
    plan: (key, min, max, given) => {
      const limit = optionsArg(given, 'limit');
      const args: CommandArg[] = ['ZRANGEBYSCORE', keyArg(key), scoreArg(min, 'min'), scoreArg(max, 'max')];
      if (limit !== undefined) args.push('LIMIT', integerArg(limit.offset, 'limit.offset'), integerArg(limit.count, 'limit.count'));
      return plan('ZRANGEBYSCORE', args, key, stringList);
    },
    memory: (server, key, min, max, limit) => server.zrangeByScore(key, min, max, optionsArg(limit, 'limit')),
    snapshot: (key, min, max, limit) => [key, min, max, limit === undefined ? undefined : ({ ...limit } as RangeLimit)],
  },
  zrem: {
    plan: (key, members) =>
      arrayArg(members, 'members').length === 0
        ? immediate('ZREM', key, 0)
        : plan('ZREM', ['ZREM', keyArg(key), ...members.map((member) => stringArg(member, 'member'))], key, asNumber),
    memory: (server, key, members) => server.zrem(key, members),
    snapshot: (key, members) => [key, copyList(members)],
  },
  zcard: {
    plan: (key) => plan('ZCARD', ['ZCARD', keyArg(key)], key, asNumber),
    memory: (server, key) => server.zcard(key),
  },
  mget: {
    plan: (keys) => {
      const args: CommandArg[] = ['MGET'];
      for (const key of arrayArg(keys, 'keys')) args.push(keyArg(key));
      return plan('MGET', args, keys[0], bytesOrNullList);
    },
    memory: (server, keys) => server.mget(keyList(keys)),
  },
  memoryUsage: {
    plan: (key) => plan('MEMORY', ['MEMORY', 'USAGE', keyArg(key)], key, memoryReply),
    memory: (server, key) => server.memoryUsage(key),
  },
} satisfies { [M in keyof KVDriver]?: Spec<M> };

function bytesOrNullList(reply: unknown): (Uint8Array | null)[] {
  const replies = reply as unknown[];
  const values = new Array<Uint8Array | null>(replies.length);
  for (let index = 0; index < replies.length; index++) values[index] = bytesOrNull(replies[index]);
  return values;
}

/** Names of the table's commands. */
export type CommandName = keyof typeof COMMANDS;

/** The commands a {@link KVBatch} queues (all but the ones that span slots or nodes). */
export const BATCH_COMMANDS = [
  'get',
  'set',
  'del',
  'exists',
  'incrBy',
  'pexpire',
  'pttl',
  'rpush',
  'lrange',
  'llen',
  'ltrim',
  'hset',
  'hget',
  'hgetall',
  'hdel',
  'hincrBy',
  'zadd',
  'zrangeByScore',
  'zrem',
  'zcard',
] as const satisfies readonly CommandName[];

/** Every {@link KVDriver} method that returns a promise: what a wrapper forwards. */
export const DRIVER_METHODS = [...BATCH_COMMANDS, 'mget', 'mset', 'memoryUsage', 'eval', 'connect', 'ping'] as const satisfies readonly (keyof KVDriver)[];

/** The spec of `name`, typed loosely for the generated methods. */
export function commandSpec(name: CommandName): CommandSpec<unknown[], unknown> {
  return COMMANDS[name] as unknown as CommandSpec<unknown[], unknown>;
}

// Four parameters cover every command of the table (zrangeByScore has the most). The
// generated methods take them as plain parameters rather than `...args`, so a call
// allocates no arguments array.
// biome-ignore lint/suspicious/noExplicitAny: each class installs methods typed by its own `this`.
type Method = (this: any, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => unknown;

/**
 * Defines one method per name on `prototype`, made by `make` (a closure over the
 * command's name and spec), as non-enumerable as class methods are.
 */
export function installCommands(prototype: object, names: readonly string[], make: (name: string) => Method): void {
  for (const name of names) {
    Object.defineProperty(prototype, name, { value: make(name), writable: true, configurable: true, enumerable: false });
  }
}
