import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { ConnectionGate } from './connection-gate.js';
import { checkOptionsObject } from '../shared/arguments.js';
import { CONNECTION_OPTION_KEYS, reconnectDelay, resolveConnectionOptions, type RedisConnectionOptions, type ResolvedConnectionOptions } from './connection-options.js';
import type { KVDriver } from '../driver.js';
import { KVError } from '../shared/errors.js';
import { loadOptionalModule } from './load-module.js';
import { RespDriver, type RespArg, type RespNode, type RespTransport } from './resp-driver.js';

/** The `ioredis` module, as `import('ioredis')` returns it. */
export type IoredisModule = typeof import('ioredis');

/** Options of {@link createIoredisDriver}. */
export interface IoredisDriverOptions extends RedisConnectionOptions {
  /**
   * Use this existing `Redis` or `Cluster` instead of creating one. The driver then leaves
   * its settings alone and does not close it unless `closeClient` is true.
   */
  client?: Redis | Cluster;
  /** Close an injected `client` in `close()` (default false; drivers always close clients they created). */
  closeClient?: boolean;
  /** The ioredis module to use instead of `import('ioredis')`. */
  lib?: IoredisModule;
}

/** `driverName` of drivers made by {@link createIoredisDriver}. */
export const IOREDIS_DRIVER_NAME = 'ioredis';

type Client = Redis | Cluster;
type CallBuffer = (...args: RespArg[]) => Promise<unknown>;

function callBuffer(client: Client | Redis, args: RespArg[]): Promise<unknown> {
  // apply() hands the argument array over without copying it again.
  return (client.callBuffer as unknown as CallBuffer).apply(client, args);
}

function isClusterClient(client: Client): client is Cluster {
  return typeof (client as Cluster).nodes === 'function' && 'slots' in client;
}

/** The options every ioredis connection of a driver gets: why each is chosen is in the README ("Outages"). */
function nodeOptions(resolved: ResolvedConnectionOptions): RedisOptions {
  return {
    username: resolved.username,
    password: resolved.password,
    tls: resolved.tls,
    connectTimeout: resolved.connectTimeoutMs,
    commandTimeout: resolved.commandTimeoutMs,
    // Commands in flight when the connection drops fail at once instead of being
    // re-sent after some reconnection attempts: the caller decides what to redo.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // No offline queue: while Redis is away commands reject immediately rather than
    // accumulating in memory; the driver's gate covers the very first connection.
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => reconnectDelay(attempt, resolved.reconnectMaxDelayMs),
    lazyConnect: true,
    // Exact integers: the RESP decoder accumulates digits in a double and rounds values
    // just below 2^53 (9007199254740991 comes back as …992); as text they convert exactly.
    stringNumbers: true,
  };
}

class IoredisTransport implements RespTransport {
  readonly driverName = IOREDIS_DRIVER_NAME;
  readonly isCluster: boolean;
  readonly commandTimeoutMs: number;
  // A single-node client serialises arguments during the call; a cluster may hold a
  // command until its slot's connection is ready, so it gets copies.
  readonly writesLater: boolean;
  readonly #options: IoredisDriverOptions;
  readonly #resolved: ResolvedConnectionOptions;
  readonly #gate: ConnectionGate;
  readonly #ownsClient: boolean;
  #client: Client | undefined;
  #starting: Promise<void> | undefined;
  #closed = false;
  #detach: (() => void) | undefined;

  constructor(options: IoredisDriverOptions) {
    this.#options = options;
    this.#resolved = resolveConnectionOptions(options);
    this.commandTimeoutMs = this.#resolved.commandTimeoutMs;
    this.#ownsClient = options.client === undefined || options.closeClient === true;
    this.isCluster = options.client !== undefined ? isClusterClient(options.client) : this.#resolved.clusterNodes !== undefined;
    this.writesLater = this.isCluster;
    this.#gate = new ConnectionGate(IOREDIS_DRIVER_NAME, this.#resolved.connectTimeoutMs);
  }

  gate(): Promise<void> | undefined {
    if (this.#gate.ready) return undefined;
    if (this.#client === undefined) return this.connect();
    return this.#gate.check();
  }

  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new KVError('CLIENT_CLOSED', 'ioredis: connect() after close()'));
    // Once the client exists the gate answers (the client reconnects by itself); until
    // then one start attempt runs at a time, and a failed one is retried by the next call.
    if (this.#client !== undefined && this.#starting === undefined) return this.#gate.check() ?? Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting.then(() => (this.#gate.ready ? undefined : this.#gate.check()));
  }

  async #start(): Promise<void> {
    const client = this.#options.client ?? (await this.#create());
    if (this.#closed) {
      // A socket reset while this client winds down must not become an unhandled 'error'.
      client.on('error', () => undefined);
      if (this.#ownsClient) client.disconnect();
      throw new KVError('CLIENT_CLOSED', 'ioredis: closed while connecting');
    }
    this.#client = client;
    this.#listen(client);
    if (client.status === 'ready') {
      this.#gate.markReady();
      return;
    }
    const ready = this.#gate.wait();
    if (client.status === 'wait') client.connect().catch(() => undefined);
    await ready;
  }

  async #create(): Promise<Client> {
    const lib = this.#options.lib ?? (await loadOptionalModule<IoredisModule>('ioredis', () => import('ioredis')));
    const namespace = lib as IoredisModule & { default?: IoredisModule };
    const RedisClass = namespace.Redis ?? namespace.default?.Redis;
    const ClusterClass = namespace.Cluster ?? namespace.default?.Cluster;
    const resolved = this.#resolved;
    if (resolved.clusterNodes !== undefined) {
      const clusterOptions: ClusterOptions = {
        redisOptions: nodeOptions(resolved),
        enableOfflineQueue: false,
        lazyConnect: true,
        clusterRetryStrategy: (attempt: number) => reconnectDelay(attempt, resolved.reconnectMaxDelayMs),
        scaleReads: 'master',
      };
      return new ClusterClass(resolved.clusterNodes, clusterOptions);
    }
    return new RedisClass({ ...nodeOptions(resolved), host: resolved.host, port: resolved.port, db: resolved.db });
  }

  #listen(client: Client): void {
    const logger = this.#resolved.logger;
    const { username, password } = this.#resolved;
    const verifyAuth = password !== undefined && this.#options.client === undefined;
    const authArgs: RespArg[] = username === undefined ? ['AUTH', password ?? ''] : ['AUTH', username, password ?? ''];
    const onReady = () => {
      logger?.debug?.('ioredis: ready');
      if (!verifyAuth) {
        this.#gate.markReady();
        return;
      }
      // ioredis carries on unauthenticated when the server has no password set (it only
      // warns). A configured password that the server does not accept must be an error,
      // so AUTH is repeated here and the driver opens only when it succeeds.
      // On a cluster every node is checked once the cluster is ready.
      const nodes: Redis[] = isClusterClient(client) ? client.nodes('all') : [client];
      Promise.all(nodes.map((node) => callBuffer(node, authArgs))).then(
        () => this.#gate.markReady(),
        (error: unknown) => this.#gate.markDown(error),
      );
    };
    const onError = (error: Error) => {
      logger?.warn?.('ioredis: connection error', { error: error.message });
      this.#gate.markDown(error);
    };
    const onClose = () => {
      if (!this.#closed) this.#gate.markDown(new Error('Connection is closed.'));
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('end', onClose);
    this.#detach = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
      client.off('end', onClose);
    };
  }

  send(args: RespArg[]): Promise<unknown> {
    return callBuffer(this.#client!, args);
  }

  sendMapped<T>(args: RespArg[], _routeKey: string | undefined, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T> {
    return callBuffer(this.#client!, args).then(onReply, (error: unknown) => {
      throw onError(error);
    });
  }

  async batch(commands: RespArg[][], atomic: boolean): Promise<unknown[]> {
    const client = this.#client!;
    const pipeline = atomic ? client.multi() : client.pipeline();
    // Pipeline commands return the pipeline itself (chainable); replies come from exec().
    for (const args of commands) void callBuffer(pipeline as unknown as Redis, args);
    const results = await pipeline.exec();
    if (results === null) throw new KVError('COMMAND_FAILED', 'ioredis: transaction was discarded');
    return results.map(([error, reply]) => error ?? reply);
  }

  async masters(): Promise<RespNode[]> {
    const client = this.#client!;
    const nodes: Redis[] = isClusterClient(client) ? client.nodes('master') : [client];
    return nodes.map((node) => ({ send: (args: RespArg[]) => callBuffer(node, args) }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#gate.fail(new KVError('CLIENT_CLOSED', 'ioredis: driver closed'));
    const client = this.#client;
    if (client === undefined) {
      // Still loading or connecting: #start sees #closed and disconnects what it made.
      await this.#starting?.catch(() => undefined);
      return;
    }
    this.#detach?.();
    // Errors after close (e.g. the socket resetting) must not become unhandled 'error' events.
    client.on('error', () => undefined);
    if (!this.#ownsClient) return;
    if (client.status === 'ready') {
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, this.#resolved.commandTimeoutMs).unref()),
      ]);
    }
    client.disconnect();
  }
}

const DRIVER_OPTION_KEYS: readonly string[] = [...CONNECTION_OPTION_KEYS, 'client', 'closeClient', 'lib'];

/**
 * A {@link KVDriver} over ioredis, for a single node (`host`/`port`/`db` or `url`) or a
 * Redis Cluster (`cluster.nodes`). ioredis is loaded on first use; without it installed
 * commands reject with `CLIENT_MISSING`. While Redis is unreachable commands fail fast
 * with `CONNECTION_LOST`, and the same driver reconnects by itself.
 */
export function createIoredisDriver(options: IoredisDriverOptions = {}): KVDriver {
  checkOptionsObject(options, DRIVER_OPTION_KEYS, 'createIoredisDriver');
  return new RespDriver(new IoredisTransport(options));
}
