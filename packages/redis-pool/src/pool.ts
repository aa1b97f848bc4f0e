import { createHash } from 'node:crypto';
import { CONNECTION_OPTION_KEYS, resolveConnectionOptions, type RedisConnectionOptions } from './clients/connection-options.js';
import { checkOptionsObject, describeValue } from './shared/arguments.js';
import type { BatchOptions, KVBatch, KVDriver, ScanOptions } from './driver.js';
import { DRIVER_METHODS, installCommands } from './commands/table.js';
import { KVError } from './shared/errors.js';
import { createIoredisDriver, type IoredisModule } from './clients/ioredis.js';
import { createMemoryDriver } from './memory/driver.js';
import { createNodeRedisDriver, type NodeRedisModule } from './clients/node-redis.js';

/** Which driver a pooled handle uses. */
export type PooledDriverKind = 'ioredis' | 'node-redis' | 'memory';

/**
 * Options of {@link getPooledDriver}: the driver kind plus the connection options of that
 * driver. Handles share one driver per (driver, address or cluster nodes, db, username,
 * password, TLS on/off); the first caller's timeouts and logger apply to everyone sharing it.
 */
export interface PooledDriverOptions extends RedisConnectionOptions {
  driver: PooledDriverKind;
  /** The client module to use instead of importing it (ioredis or redis, matching `driver`). */
  lib?: IoredisModule | NodeRedisModule;
}

/**
 * A reference to a shared driver. It is a {@link KVDriver} itself; `close()` (same as
 * `release()`) gives this reference back and closes the shared connection when it was the
 * last one. Commands through a released handle reject with `CLIENT_CLOSED`.
 */
export interface PooledDriverHandle extends KVDriver {
  /** The pool key this handle shares (the password appears only as a hash). */
  readonly poolKey: string;
  /** Gives this reference back; idempotent. */
  release(): Promise<void>;
}

interface PoolEntry {
  driver: KVDriver;
  references: number;
}

const pool = new Map<string, PoolEntry>();

function secretDigest(password: string | undefined): string {
  // Keyed by a hash so a different password never reuses a connection authenticated with
  // another one, without keeping the password itself in the key.
  return password === undefined ? '-' : createHash('sha256').update(password).digest('hex').slice(0, 16);
}

/** Every key {@link PooledDriverOptions} knows. */
const POOLED_OPTION_KEYS: readonly string[] = [...CONNECTION_OPTION_KEYS, 'driver', 'lib'];

/** The sharing key for `options` (exported for tests and diagnostics). */
export function pooledDriverKey(options: PooledDriverOptions): string {
  checkOptionsObject(options, POOLED_OPTION_KEYS, 'getPooledDriver');
  if (options.driver !== 'ioredis' && options.driver !== 'node-redis' && options.driver !== 'memory') {
    throw new KVError('INVALID_ARGUMENT', `driver must be 'ioredis', 'node-redis' or 'memory', got ${describeValue(options.driver)}`);
  }
  if (options.driver === 'memory') return `memory|db=${options.db ?? 0}`;
  const resolved = resolveConnectionOptions(options);
  const address =
    resolved.clusterNodes !== undefined
      ? `cluster:${resolved.clusterNodes
          .map((node) => `${node.host}:${node.port}`)
          .sort()
          .join(',')}`
      : `${resolved.host}:${resolved.port}`;
  return [
    options.driver,
    address,
    `db=${resolved.db}`,
    `user=${resolved.username ?? ''}`,
    `pw=${secretDigest(resolved.password)}`,
    resolved.tls ? 'tls' : 'plain',
  ].join('|');
}

function createDriver(options: PooledDriverOptions): KVDriver {
  const { driver: kind, lib, ...connection } = options;
  if (kind === 'memory') return createMemoryDriver(connection.logger === undefined ? {} : { logger: connection.logger });
  if (kind === 'ioredis') return createIoredisDriver({ ...connection, ...(lib === undefined ? {} : { lib: lib as IoredisModule }) });
  return createNodeRedisDriver({ ...connection, ...(lib === undefined ? {} : { lib: lib as NodeRedisModule }) });
}

// biome-ignore lint/correctness/noUnusedVariables: merged into the class below, whose static block installs the methods.
interface PooledHandle extends Pick<KVDriver, (typeof DRIVER_METHODS)[number]> {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above names the methods the static block installs.
class PooledHandle implements PooledDriverHandle {
  readonly poolKey: string;
  readonly driverName: string;
  readonly isCluster: boolean;
  readonly commandTimeoutMs: number | undefined;
  #entry: PoolEntry | undefined;
  #released: Promise<void> | undefined;

  constructor(poolKey: string, entry: PoolEntry) {
    this.poolKey = poolKey;
    this.#entry = entry;
    this.driverName = entry.driver.driverName;
    this.isCluster = entry.driver.isCluster;
    this.commandTimeoutMs = entry.driver.commandTimeoutMs;
  }

  #driver(): KVDriver {
    const entry = this.#entry;
    if (entry === undefined) throw new KVError('CLIENT_CLOSED', `pooled ${this.driverName} driver was released`);
    return entry.driver;
  }

  #call<T>(run: (driver: KVDriver) => Promise<T>): Promise<T> {
    let driver: KVDriver;
    try {
      driver = this.#driver();
    } catch (error) {
      return Promise.reject(error);
    }
    return run(driver);
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      const entry = this.#entry;
      this.#entry = undefined;
      if (entry === undefined) return;
      entry.references -= 1;
      if (entry.references > 0) return;
      if (pool.get(this.poolKey) === entry) pool.delete(this.poolKey);
      await entry.driver.close();
    })();
    return this.#released;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    return this.release();
  }

  static {
    installCommands(PooledHandle.prototype, DRIVER_METHODS, (name) => {
      const method = name as (typeof DRIVER_METHODS)[number];
      return function (this: PooledHandle, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
        return this.#call((driver) => (driver[method] as (...args: unknown[]) => Promise<unknown>).call(driver, a, b, c, d));
      };
    });
  }

  scan(options: ScanOptions): AsyncIterable<string> {
    return this.#driver().scan(options);
  }
  batch(options?: BatchOptions): KVBatch {
    return this.#driver().batch(options);
  }
}

/**
 * A handle on the driver shared by every caller with the same (driver, address or cluster
 * nodes, db, username, password, TLS) — like the original `create_redis_client`, but a
 * wrong password is an `AUTH_FAILED` error on first use, never a fallback to an
 * unauthenticated connection. Reference counted: the last `release()` closes the driver.
 */
export function getPooledDriver(options: PooledDriverOptions): PooledDriverHandle {
  if (options === null || typeof options !== 'object') throw new KVError('INVALID_ARGUMENT', 'getPooledDriver takes an options object with a driver name');
  const key = pooledDriverKey(options);
  let entry = pool.get(key);
  if (entry === undefined) {
    entry = { driver: createDriver(options), references: 0 };
    pool.set(key, entry);
  }
  entry.references += 1;
  return new PooledHandle(key, entry);
}

/** Number of distinct drivers the pool holds open right now. */
export function pooledDriverCount(): number {
  return pool.size;
}

/** Closes every pooled driver, whoever holds it; their handles then reject with `CLIENT_CLOSED`. */
export async function closeAllPooledDrivers(): Promise<void> {
  const entries = [...pool.values()];
  pool.clear();
  await Promise.allSettled(entries.map((entry) => entry.driver.close()));
}
