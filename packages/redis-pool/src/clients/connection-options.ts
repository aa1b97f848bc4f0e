import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Logger } from '../driver.js';
import { describeValue } from '../shared/arguments.js';
import { KVError } from '../shared/errors.js';

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
  /**
   * TCP keep-alive probes on the sockets, first after this many ms of silence (default
   * 30000), so a peer that vanished without closing (a host power loss, a NAT that dropped
   * the flow) is noticed even when no command is waiting; `false` turns the probes off.
   */
  keepAliveMs?: number | false;
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
  /** Initial delay of TCP keep-alive probes in ms, or `false` for none. */
  keepAliveMs: number | false;
  logger: Logger | undefined;
}

/** Every key of {@link RedisConnectionOptions}. */
export const CONNECTION_OPTION_KEYS: readonly string[] = [
  'url',
  'host',
  'port',
  'db',
  'username',
  'password',
  'tls',
  'cluster',
  'commandTimeoutMs',
  'connectTimeoutMs',
  'reconnectMaxDelayMs',
  'keepAliveMs',
  'logger',
];

function optionalString(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'string') throw new KVError('INVALID_ARGUMENT', `${name} must be a string, got ${describeValue(value)}`);
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new KVError('INVALID_ARGUMENT', `${name} must be a positive integer of milliseconds, got ${describeValue(value)}`);
  }
  return value;
}

function checkNodes(value: unknown): RedisNodeAddress[] {
  if (value === null || typeof value !== 'object' || !Array.isArray((value as { nodes?: unknown }).nodes)) {
    throw new KVError('INVALID_ARGUMENT', 'cluster must be { nodes: [{ host, port }, …] }');
  }
  return (value as { nodes: unknown[] }).nodes.map((node, index) => {
    if (node === null || typeof node !== 'object')
      throw new KVError('INVALID_ARGUMENT', `cluster.nodes[${index}] must be { host, port }, got ${describeValue(node)}`);
    const { host, port } = node as { host?: unknown; port?: unknown };
    if (typeof host !== 'string' || host === '')
      throw new KVError('INVALID_ARGUMENT', `cluster.nodes[${index}].host must be a non-empty string, got ${describeValue(host)}`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new KVError('INVALID_ARGUMENT', `cluster.nodes[${index}].port must be 1..65535, got ${describeValue(port)}`);
    }
    return { host, port };
  });
}

/** Validates the options, parses `url` and applies defaults; throws `INVALID_ARGUMENT` on nonsense. */
export function resolveConnectionOptions(options: RedisConnectionOptions): ResolvedConnectionOptions {
  if (options === null || typeof options !== 'object')
    throw new KVError('INVALID_ARGUMENT', `connection options must be an object, got ${describeValue(options)}`);
  optionalString(options.url, 'url');
  optionalString(options.host, 'host');
  optionalString(options.username, 'username');
  optionalString(options.password, 'password');
  if (options.port !== undefined && typeof options.port !== 'number')
    throw new KVError('INVALID_ARGUMENT', `port must be a number, got ${describeValue(options.port)}`);
  if (options.db !== undefined && typeof options.db !== 'number')
    throw new KVError('INVALID_ARGUMENT', `db must be a number, got ${describeValue(options.db)}`);
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && (options.tls === null || typeof options.tls !== 'object')) {
    throw new KVError('INVALID_ARGUMENT', `tls must be true, false or tls.connect options, got ${describeValue(options.tls)}`);
  }
  if (options.logger !== undefined && (options.logger === null || typeof options.logger !== 'object')) {
    throw new KVError('INVALID_ARGUMENT', 'logger must be an object with optional debug/info/warn/error methods');
  }
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
      throw new KVError('INVALID_ARGUMENT', `not a valid Redis URL: ${describeValue(options.url)}`, { cause });
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
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new KVError('INVALID_ARGUMENT', `port must be 1..65535, got ${describeValue(port)}`);
  if (!Number.isSafeInteger(db) || db < 0) throw new KVError('INVALID_ARGUMENT', `db must be a non-negative integer, got ${describeValue(db)}`);
  const clusterNodes = options.cluster === undefined ? undefined : checkNodes(options.cluster);
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
    clusterNodes,
    commandTimeoutMs: positiveInteger(options.commandTimeoutMs, 'commandTimeoutMs', 5000),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, 'connectTimeoutMs', 5000),
    reconnectMaxDelayMs: positiveInteger(options.reconnectMaxDelayMs, 'reconnectMaxDelayMs', 1000),
    keepAliveMs: options.keepAliveMs === false ? false : positiveInteger(options.keepAliveMs, 'keepAliveMs', 30_000),
    logger: options.logger,
  };
}

/** Delay before reconnection attempt `attempt` (1-based): 50 ms doubling up to the cap. */
export function reconnectDelay(attempt: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, 50 * 2 ** Math.min(Math.max(attempt - 1, 0), 10));
}
