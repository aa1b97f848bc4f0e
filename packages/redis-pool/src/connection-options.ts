import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Logger } from './driver.js';
import { KVError } from './errors.js';

/** A Redis node address. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/**
 * Connection options shared by the ioredis and node-redis drivers. Explicit fields win
 * over what `url` says.
 */
export interface RedisConnectionOptions {
  /** `redis://[user[:password]@]host[:port][/db]`, or `rediss://…` for TLS. */
  url?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `6379`. */
  port?: number;
  /** Database index on a single node (default 0). Redis Cluster only has db 0. */
  db?: number;
  /** ACL user (Redis 6+); omit for the default user. */
  username?: string;
  /** Password of `username`, or `requirepass`. A wrong one fails with `AUTH_FAILED`, never falls back. */
  password?: string;
  /** `true` for TLS with Node's defaults, or Node `tls.connect` options (ca, cert, key, servername, …). */
  tls?: boolean | TlsConnectionOptions;
  /** Connect to a Redis Cluster through these seed nodes instead of a single node. */
  cluster?: { nodes: RedisNodeAddress[] };
  /** A command that gets no answer within this time fails with `TIMEOUT` (default 5000). */
  commandTimeoutMs?: number;
  /** A connection attempt that does not complete within this time fails (default 5000). */
  connectTimeoutMs?: number;
  /**
   * Longest wait between reconnection attempts while the server is away (default 1000).
   * Attempts back off from 50 ms up to this cap and never stop until `close()`.
   */
  reconnectMaxDelayMs?: number;
  /** Receives connection diagnostics; nothing is printed otherwise. */
  logger?: Logger;
}

/** {@link RedisConnectionOptions} with the URL folded in and defaults applied. */
export interface ResolvedConnectionOptions {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: TlsConnectionOptions | undefined;
  clusterNodes: RedisNodeAddress[] | undefined;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  reconnectMaxDelayMs: number;
  logger: Logger | undefined;
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new KVError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Validates the options, parses `url` and applies defaults; throws `INVALID_ARGUMENT` on nonsense. */
export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedConnectionOptions {
  let host = '127.0.0.1';
  let port = 6379;
  let db = 0;
  let username: string | undefined;
  let password: string | undefined;
  let tls: TlsConnectionOptions | undefined;
  if (options.url !== undefined) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      throw new KVError('INVALID_ARGUMENT', `not a valid Redis URL: ${JSON.stringify(options.url)}`, { cause });
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new KVError('INVALID_ARGUMENT', `Redis URL must start with redis:// or rediss://, got ${url.protocol}//`);
    }
    if (url.hostname) host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (url.port) port = Number(url.port);
    if (url.username) username = decodeURIComponent(url.username);
    if (url.password) password = decodeURIComponent(url.password);
    const path = url.pathname.replace(/^\//, '');
    if (path !== '') {
      db = Number(path);
      if (!Number.isInteger(db) || db < 0) throw new KVError('INVALID_ARGUMENT', `Redis URL database must be a number, got ${JSON.stringify(path)}`);
    }
    if (url.protocol === 'rediss:') tls = {};
  }
  if (options.host !== undefined) host = options.host;
  if (options.port !== undefined) port = options.port;
  if (options.db !== undefined) db = options.db;
  if (options.username !== undefined) username = options.username;
  if (options.password !== undefined) password = options.password;
  if (options.tls !== undefined) tls = options.tls === false ? undefined : options.tls === true ? (tls ?? {}) : options.tls;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new KVError('INVALID_ARGUMENT', `port must be 1..65535, got ${String(port)}`);
  if (!Number.isInteger(db) || db < 0) throw new KVError('INVALID_ARGUMENT', `db must be a non-negative integer, got ${String(db)}`);
  const clusterNodes = options.cluster?.nodes;
  if (clusterNodes !== undefined) {
    if (clusterNodes.length === 0) throw new KVError('INVALID_ARGUMENT', 'cluster.nodes must list at least one seed node');
    if (db !== 0) throw new KVError('INVALID_ARGUMENT', `Redis Cluster only has db 0 (got db ${db}); separate data with key prefixes instead`);
  }
  return {
    host,
    port,
    db,
    username,
    password,
    tls,
    clusterNodes: clusterNodes?.map((node) => ({ host: node.host, port: node.port })),
    commandTimeoutMs: positiveInteger(options.commandTimeoutMs, 'commandTimeoutMs', 5000),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, 'connectTimeoutMs', 5000),
    reconnectMaxDelayMs: positiveInteger(options.reconnectMaxDelayMs, 'reconnectMaxDelayMs', 1000),
    logger: options.logger,
  };
}

/** Delay before reconnection attempt `attempt` (1-based): 50 ms doubling up to the cap. */
export function reconnectDelay(attempt: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 10));
}
