import type { BatchOptions, Clock, KVArg, KVBatch, KVBatchCommands, KVDriver, Logger, ScanOptions, ScriptReply } from '../driver.js';
import { optionsArg, signalArg, throwIfAborted } from '../shared/arguments.js';
import { BATCH_COMMANDS, commandSpec, installCommands, type CommandName } from '../commands/table.js';
import { KVError } from '../shared/errors.js';
import { checkOptionsObject, describeValue } from '../shared/arguments.js';
import { MemoryServer, checkClockAndLogger } from './server.js';
import type { KVScript, MemoryStore } from '../script.js';
import { encodeScriptArg } from '../shared/script-args.js';

/** The `driverName` of the in-memory driver. */
export const MEMORY_DRIVER_NAME = 'memory';

/** Options of {@link createMemoryDriver}. */
export interface MemoryDriverOptions {
  /**
   * Time source for TTLs when the driver creates its own keyspace. With `store`, the
   * server's clock rules (one Redis has one clock); passing a different one is an error.
   */
  clock?: Clock;
  /** A shared keyspace: drivers over one `MemoryServer` behave like clients of one Redis. */
  store?: MemoryServer;
  /** Receives debug messages. */
  logger?: Logger;
}

const encoder = new TextEncoder();

function closedError(): KVError {
  return new KVError('CLIENT_CLOSED', 'The memory driver was closed; create a new driver to run commands.');
}

function asKVError(error: unknown): KVError {
  if (error instanceof KVError) return error;
  // A TypeError here comes from an argument of the wrong shape reaching the keyspace.
  if (error instanceof TypeError) return new KVError('INVALID_ARGUMENT', `invalid argument: ${error.message}`, { cause: error });
  return new KVError('COMMAND_FAILED', error instanceof Error ? error.message : describeValue(error), { cause: error });
}

/**
 * Maps what a memory twin returned the way Redis maps a Lua value: numbers truncate
 * toward zero (Lua number → integer reply), `true` → 1, `false`/`null`/`undefined` →
 * null, strings → UTF-8 bytes, bytes are copied, arrays map element-wise.
 */
function toScriptReply(value: unknown, scriptName: string, depth = 0): ScriptReply {
  if (depth > 64) throw new KVError('SCRIPT_ERROR', `Script ${scriptName} returned a reply nested deeper than 64 levels.`);
  if (value === null || value === undefined || value === false) return null;
  if (value === true) return 1;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new KVError('SCRIPT_ERROR', `Script ${scriptName} returned ${String(value)}, which has no Redis integer reply.`);
    const truncated = Math.trunc(value);
    return truncated === 0 ? 0 : truncated;
  }
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map((item) => toScriptReply(item, scriptName, depth + 1));
  throw new KVError('SCRIPT_ERROR', `Script ${scriptName} returned a ${typeof value}, which has no Redis reply type.`);
}

type Command<T> = (server: MemoryServer) => T;

/**
 * A {@link KVDriver} over an in-memory keyspace: the embedded default when no Redis is
 * configured, and a fast, deterministic stand-in for tests (inject a manual `clock`).
 * Commands run synchronously in call order, so batches and scripts are atomic.
 */
// biome-ignore lint/correctness/noUnusedVariables: merged into the class below, whose static block installs the methods.
interface MemoryDriver extends Pick<KVDriver, (typeof BATCH_COMMANDS)[number] | 'mget' | 'memoryUsage'> {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above names the methods the static block installs.
class MemoryDriver implements KVDriver {
  readonly driverName = MEMORY_DRIVER_NAME;
  readonly isCluster = false;
  readonly #server: MemoryServer;
  readonly #ownsServer: boolean;
  readonly #logger: Logger | undefined;
  readonly #scriptView: MemoryStore;
  #closed = false;

  constructor(options: MemoryDriverOptions) {
    if (options.store !== undefined) {
      if (!(options.store instanceof MemoryServer)) throw new KVError('INVALID_ARGUMENT', 'store must be a MemoryServer.');
      if (options.clock !== undefined && options.clock !== options.store.clock) {
        throw new KVError('INVALID_ARGUMENT', 'Pass the clock to the MemoryServer, not to a driver over it: one keyspace has one clock.');
      }
      this.#server = options.store;
      this.#ownsServer = false;
    } else {
      this.#server = new MemoryServer({ clock: options.clock, logger: options.logger });
      this.#ownsServer = true;
    }
    this.#logger = options.logger;
    this.#scriptView = createScriptView(this.#server);
  }

  #check(): void {
    if (this.#closed || this.#server.closed) throw closedError();
  }

  #run<T>(command: Command<T>): Promise<T> {
    try {
      this.#check();
      return Promise.resolve(command(this.#server));
    } catch (error) {
      return Promise.reject(asKVError(error));
    }
  }

  connect(): Promise<void> {
    return this.#run(() => undefined);
  }

  ping(): Promise<void> {
    return this.#run(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#ownsServer) this.#server.close();
      this.#logger?.debug?.('memory driver closed', { ownsServer: this.#ownsServer });
    }
    return Promise.resolve();
  }

  mset(entries: Iterable<readonly [string, Uint8Array]>, options?: { ttlMs?: number }): Promise<void> {
    return this.#run((s) => {
      if (entries === null || typeof entries !== 'object' || typeof (entries as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
        throw new KVError('INVALID_ARGUMENT', 'mset takes an iterable of [key, bytes] pairs');
      }
      return s.mset(entries, optionsArg(options, 'mset options'));
    });
  }

  static {
    installCommands(MemoryDriver.prototype, [...BATCH_COMMANDS, 'mget', 'memoryUsage'], (name) => {
      const spec = commandSpec(name as CommandName);
      return function (this: MemoryDriver, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
        return this.#run((server) => spec.memory(server, a, b, c, d));
      };
    });
  }

  async *scan(options: ScanOptions): AsyncIterable<string> {
    this.#check();
    if (options === null || typeof options !== 'object') throw new KVError('INVALID_ARGUMENT', 'scan takes { match, count? }.');
    const count = options.count ?? 250;
    if (typeof options.match !== 'string') throw new KVError('INVALID_ARGUMENT', 'scan needs a match pattern string.');
    if (!Number.isSafeInteger(count) || count < 1) throw new KVError('INVALID_ARGUMENT', `scan count must be a positive integer, got ${describeValue(count)}.`);
    const signal = signalArg(options.signal, 'scan');
    throwIfAborted(signal);
    for (const chunk of this.#server.scanChunks(options.match, count)) {
      // Yield to the event loop between chunks, as each SCAN call is a round trip on Redis.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.#check();
      throwIfAborted(signal);
      yield* chunk;
    }
    this.#check();
  }

  batch(options: BatchOptions = {}): KVBatch {
    return new MemoryBatch(this, options.atomic === true);
  }

  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply> {
    return this.#run((s) => this.runScript(s, script, keys, args));
  }

  /** Runs a memory twin synchronously; shared by `eval` and batches. */
  runScript(_server: MemoryServer, script: KVScript, keys: string[], args: KVArg[]): ScriptReply {
    if (script === null || typeof script !== 'object' || typeof script.memory !== 'function') {
      throw new KVError('INVALID_ARGUMENT', 'eval needs a script made with defineScript().');
    }
    if (!Array.isArray(keys) || !Array.isArray(args)) throw new KVError('INVALID_ARGUMENT', 'eval needs arrays of keys and args.');
    for (const key of keys) if (typeof key !== 'string') throw new KVError('INVALID_ARGUMENT', 'Script keys must be strings.');
    const encodedArgs = args.map(encodeScriptArg);
    let result: unknown;
    try {
      result = script.memory(this.#scriptView, [...keys], encodedArgs);
    } catch (error) {
      const message = error instanceof Error ? error.message : describeValue(error);
      throw new KVError('SCRIPT_ERROR', `Script ${script.name} failed: ${message}`, { cause: error });
    }
    return toScriptReply(result, script.name);
  }

  /** Runs queued batch commands in one synchronous pass; used by {@link MemoryBatch}. */
  runBatch(steps: readonly BatchStep[]): KVError[] {
    this.#check();
    const failures: KVError[] = [];
    for (const step of steps) {
      try {
        step.resolve(step.command(this.#server));
      } catch (error) {
        const failure = asKVError(error);
        failures.push(failure);
        step.reject(failure);
      }
    }
    return failures;
  }
}

interface BatchStep {
  command: Command<unknown>;
  resolve(value: unknown): void;
  reject(error: KVError): void;
}

/**
 * Queues commands and runs them in order in one synchronous pass on `exec()`; nothing
 * else interleaves, so `atomic` holds trivially. Like MULTI/EXEC, a failing command does
 * not undo the others.
 */
// biome-ignore lint/correctness/noUnusedVariables: merged into the class below, whose static block installs the methods.
interface MemoryBatch extends Pick<KVBatchCommands, (typeof BATCH_COMMANDS)[number]> {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above names the methods the static block installs.
class MemoryBatch implements KVBatch {
  readonly #driver: MemoryDriver;
  readonly #steps: BatchStep[] = [];
  readonly #atomic: boolean;
  #sent = false;

  constructor(driver: MemoryDriver, atomic: boolean) {
    this.#driver = driver;
    this.#atomic = atomic;
  }

  #queue<T>(command: Command<T>): Promise<T> {
    if (this.#sent) {
      return Promise.reject(new KVError('INVALID_ARGUMENT', 'This batch was already executed; start a new batch().'));
    }
    let resolve!: (value: unknown) => void;
    let reject!: (error: KVError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // exec() reports failures too, so a caller that only awaits exec() must not see an unhandled rejection.
    promise.catch(() => undefined);
    this.#steps.push({ command, resolve, reject });
    return promise as Promise<T>;
  }

  async exec(): Promise<void> {
    if (this.#sent) throw new KVError('INVALID_ARGUMENT', 'This batch was already executed; start a new batch().');
    this.#sent = true;
    let failures: KVError[];
    try {
      failures = this.#driver.runBatch(this.#steps);
    } catch (error) {
      const failure = asKVError(error);
      for (const step of this.#steps) step.reject(failure);
      throw failure;
    }
    const first = failures[0];
    if (first !== undefined) {
      const kind = this.#atomic ? 'transaction' : 'pipeline';
      throw new KVError(first.code, `${failures.length} of ${this.#steps.length} ${kind} commands failed; first: ${first.message}`, { cause: first });
    }
  }

  static {
    installCommands(MemoryBatch.prototype, BATCH_COMMANDS, (name) => {
      const spec = commandSpec(name as CommandName);
      const snapshot = spec.snapshot;
      return function (this: MemoryBatch, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
        if (snapshot === undefined) return this.#queue((server) => spec.memory(server, a, b, c, d));
        let args: unknown[];
        try {
          args = snapshot(a, b, c, d);
        } catch (error) {
          return this.#queue(() => {
            throw error;
          });
        }
        return this.#queue((server) => spec.memory(server, ...args));
      };
    });
  }

  eval(script: KVScript, keys: string[], args: KVArg[]): Promise<ScriptReply> {
    let encoded: KVArg[];
    try {
      encoded = Array.isArray(args) ? args.map(encodeScriptArg) : args;
    } catch (error) {
      return this.#queue(() => {
        throw error;
      });
    }
    const keyCopy = Array.isArray(keys) ? [...keys] : keys;
    return this.#queue((s) => this.#driver.runScript(s, script, keyCopy, encoded));
  }
}

/** The keyspace methods a script's memory twin may call: exactly {@link MemoryStore}. */
const STORE_METHODS = Object.keys({
  now: 0,
  get: 0,
  set: 0,
  del: 0,
  exists: 0,
  incrBy: 0,
  pexpire: 0,
  pttl: 0,
  rpush: 0,
  lpop: 0,
  lrange: 0,
  llen: 0,
  ltrim: 0,
  hset: 0,
  hget: 0,
  hgetall: 0,
  hdel: 0,
  hlen: 0,
  hincrBy: 0,
  zadd: 0,
  zrangeByScore: 0,
  zrem: 0,
  zcard: 0,
} satisfies Record<keyof MemoryStore, 0>) as (keyof MemoryStore)[];

function createScriptView(server: MemoryServer): MemoryStore {
  // A frozen view with only the MemoryStore methods, so a twin cannot reach flushAll/close.
  const view: Record<string, unknown> = {};
  for (const name of STORE_METHODS) {
    const method = server[name] as (...args: unknown[]) => unknown;
    view[name] = (...args: unknown[]) => method.apply(server, args);
  }
  return Object.freeze(view) as unknown as MemoryStore;
}

/**
 * Creates the in-memory {@link KVDriver}. Without `store` it gets a private keyspace
 * (closed with the driver); with `store`, several drivers share one keyspace like
 * several clients of one Redis.
 */
export function createMemoryDriver(options: MemoryDriverOptions = {}): KVDriver {
  checkOptionsObject(options, ['clock', 'store', 'logger'], 'createMemoryDriver');
  checkClockAndLogger(options.clock, options.logger);
  return new MemoryDriver(options);
}
