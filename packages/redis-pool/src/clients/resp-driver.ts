import type { BatchOptions, KVArg, KVBatch, KVBatchCommands, KVDriver, ScanOptions, ScriptReply } from '../driver.js';
import { keyArg, keyList, optionsArg, signalArg, stringArg, throwIfAborted } from '../shared/arguments.js';
import { KVError } from '../shared/errors.js';
import { toKVError } from './error-mapping.js';
import type { KVScript } from '../script.js';
import { groupBySlot, keySlot } from '../cluster/slot.js';
import { BATCH_COMMANDS, COMMANDS, commandSpec, installCommands, type CommandSpec } from '../commands/table.js';
import {
  asInvalid,
  asVoid,
  wireArgs,
  immediate,
  plan,
  scriptArg,
  scriptArgs,
  scriptReplyOf,
  shown,
  textOf,
  bytesArg,
  ttlArg,
  type Planned,
  type CommandArg,
  type RespArg,
} from '../commands/resp.js';

export type { RespArg } from '../commands/resp.js';

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

/** The methods {@link RespDriver} gets from the command table. */
export interface RespDriver extends Pick<KVDriver, Exclude<(typeof BATCH_COMMANDS)[number], 'del'> | 'memoryUsage'> {}

/** {@link KVDriver} on top of a {@link RespTransport}. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above names the methods the static block installs.
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
    // Before any wait for the connection: a copy keeps the bytes as they were at call time.
    wireArgs(planned.args, this.#transport.writesLater);
    const gate = this.#transport.gate();
    if (gate !== undefined)
      return gate.then(
        () => this.#send(planned),
        (error: unknown) => Promise.reject(this.#fail(error, planned.command)),
      );
    return this.#send(planned);
  }

  #send<T>(planned: Planned<T>): Promise<T> {
    return this.#transport.sendMapped(planned.args as RespArg[], planned.routeKey, planned.convert, (error: unknown) =>
      this.#fail(error, planned.command, planned.script),
    );
  }

  /** Plans a command of the table, turning argument validation errors into rejections. */
  #call<A extends unknown[], T>(spec: CommandSpec<A, T>, ...args: A): Promise<T> {
    let planned: Planned<T>;
    try {
      planned = spec.plan(...args);
    } catch (error) {
      return Promise.reject(asInvalid(error));
    }
    return this.#run(planned);
  }

  static {
    // Every command of the table but the ones with code of their own (mget, del).
    const names = [...BATCH_COMMANDS.filter((name) => name !== 'del'), 'memoryUsage'];
    installCommands(RespDriver.prototype, names, (name) => {
      const spec = commandSpec(name as never);
      return function (this: RespDriver, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
        let planned: Planned<unknown>;
        try {
          planned = spec.plan(a, b, c, d);
        } catch (error) {
          return Promise.reject(asInvalid(error));
        }
        return this.#run(planned);
      };
    });
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

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = this.#transport.close().catch(() => undefined);
    return this.#closing;
  }

  mget(keys: string[]): Promise<(Uint8Array | null)[]> {
    // One node, one MGET: the plan validates the keys as it builds the command.
    if (!this.isCluster && Array.isArray(keys) && keys.length > 0) return this.#call(COMMANDS.mget, keys);
    return this.#mgetBySlot(keys);
  }

  async #mgetBySlot(keys: string[]): Promise<(Uint8Array | null)[]> {
    keyList(keys);
    if (keys.length === 0) {
      if (this.#closed) throw this.#closedError('MGET');
      return [];
    }
    const out = new Array<Uint8Array | null>(keys.length);
    await Promise.all(
      [...groupBySlot(keys).values()].map(async (indexes) => {
        const slotKeys = indexes.map((index) => keys[index]!);
        const values = await this.#call(COMMANDS.mget, slotKeys);
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
      bytesArg(entry[1]);
    }
    if (list.length === 0) return;
    optionsArg(options, 'mset options');
    const ttl = options?.ttlMs === undefined ? undefined : ttlArg(options.ttlMs);
    const groups = this.isCluster ? [...groupBySlot(list.map(([key]) => key)).values()] : [list.map((_, index) => index)];
    await Promise.all(
      groups.map(async (indexes) => {
        const group = indexes.map((index) => list[index]!);
        if (ttl === undefined) {
          const args: CommandArg[] = ['MSET'];
          for (const [key, value] of group) args.push(keyArg(key), bytesArg(value));
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
    if (!this.isCluster || !Array.isArray(keys) || keys.length <= 1) return this.#call(COMMANDS.del, keys);
    keyList(keys);
    const counts = await Promise.all(
      [...groupBySlot(keys).values()].map((indexes) =>
        this.#call(
          COMMANDS.del,
          indexes.map((index) => keys[index]!),
        ),
      ),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async *scan(options: ScanOptions): AsyncIterable<string> {
    if (this.#closed) throw this.#closedError('SCAN');
    if (options === null || typeof options !== 'object')
      throw new KVError('INVALID_ARGUMENT', `scan takes { match, count? }, got ${options === null ? 'null' : typeof options}`);
    stringArg(options.match, 'scan match');
    const count = options.count ?? 250;
    if (!Number.isInteger(count) || count <= 0) throw new KVError('INVALID_ARGUMENT', `scan count must be a positive integer, got ${shown(count)}`);
    const signal = signalArg(options.signal, 'scan');
    throwIfAborted(signal);
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
        throwIfAborted(signal);
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

  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply> {
    if (this.#closed) return Promise.reject(this.#closedError('EVALSHA'));
    let planned: Planned<ScriptReply>;
    try {
      scriptArg(script);
      if (this.isCluster) {
        keyList(keys, 'script keys');
        if (keys.length > 1) {
          const slot = keySlot(keys[0]!);
          if (keys.some((key) => keySlot(key) !== slot)) {
            throw new KVError(
              'CROSS_SLOT',
              `${this.driverName}: script "${script.name}" keys span several cluster slots; put them under one hash tag like {session}`,
            );
          }
        }
      }
      // scriptArgs checks the keys (an array of strings) as keyList does.
      planned = { command: 'EVALSHA', args: scriptArgs('EVALSHA', script.sha1, keys, args), routeKey: keys[0], convert: scriptReplyOf, script: script.name };
    } catch (error) {
      return Promise.reject(asInvalid(error));
    }
    // Not an async function: the common case (the script is cached) costs no extra promise.
    return this.#run(planned).catch((error: unknown) => {
      if (!(error instanceof KVError && error.code === 'SCRIPT_ERROR' && isNoScript(error.cause))) throw error;
      // This node has not cached the script (new, restarted or flushed): EVAL sends the
      // body, which also caches it there, so the next EVALSHA succeeds.
      return this.#run({ ...planned, command: 'EVAL', args: scriptArgs('EVAL', script.lua, keys, args) });
    });
  }

  batch(options?: BatchOptions): KVBatch {
    optionsArg(options, 'batch options');
    return new RespBatch(
      this,
      this.#transport,
      options?.atomic === true,
      (error, command, script) => this.#fail(error, command, script),
      () => this.#closed,
    );
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

// biome-ignore lint/correctness/noUnusedVariables: merged into the class below, whose static block installs the methods.
interface RespBatch extends Pick<KVBatchCommands, (typeof BATCH_COMMANDS)[number]> {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above names the methods the static block installs.
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
      wireArgs(planned.args, true);
      this.#queue.push({ planned, result });
    } catch (error) {
      // Invalid arguments fail this command now, and exec() fails without sending anything.
      const invalid = error instanceof KVError ? error : new KVError('INVALID_ARGUMENT', String(error), { cause: error });
      this.#queue.push({ planned: immediate('INVALID', undefined, undefined), invalid, result });
      result.reject(invalid);
    }
    return result.promise as Promise<T>;
  }

  static {
    installCommands(RespBatch.prototype, BATCH_COMMANDS, (name) => {
      const spec = commandSpec(name as never);
      return function (this: RespBatch, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
        return this.#add(() => spec.plan(a, b, c, d));
      };
    });
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
          rejectAll(
            new KVError(
              'CROSS_SLOT',
              `${this.#driver.driverName}: a batch on Redis Cluster must keep all its keys in one slot; use one hash tag like {session}`,
            ),
          );
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
        // #add has already turned them into copies (wireArgs).
        toSend.map((entry) => entry.planned.args as RespArg[]),
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
