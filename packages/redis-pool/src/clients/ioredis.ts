import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { CommandDeadlines } from '../shared/deadlines.js';
import { ClientLifecycle, type ClientListener } from './lifecycle.js';
import { checkOptionsObject } from '../shared/arguments.js';
import {
  CONNECTION_OPTION_KEYS,
  reconnectDelay,
  resolveConnectionOptions,
  type RedisConnectionOptions,
  type ResolvedConnectionOptions,
} from './connection-options.js';
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
/** The part of ioredis's `Command` the driver uses. */
type CommandConstructor = new (
  name: string,
  args: RespArg[],
  options: { replyEncoding: null },
) => { promise: Promise<unknown>; reject: (error: Error) => void };
const BUFFER_REPLY = { replyEncoding: null } as const;

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
    // ioredis arms keep-alive for any number, 0 included (the kernel's two-hour default
    // delay), and only skips it for a non-number; its typings say number only.
    keepAlive: resolved.keepAliveMs === false ? (false as unknown as number) : resolved.keepAliveMs,
    // No commandTimeout: it arms a timer per command (ten per pipeline of ten); the
    // transport's shared CommandDeadlines bound every command instead.
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

class IoredisTransport extends ClientLifecycle<Client> implements RespTransport {
  readonly driverName = IOREDIS_DRIVER_NAME;
  readonly isCluster: boolean;
  readonly commandTimeoutMs: number;
  // A single-node client serialises arguments during the call; a cluster may hold a
  // command until its slot's connection is ready, so it gets copies.
  readonly writesLater: boolean;
  readonly #options: IoredisDriverOptions;
  readonly #resolved: ResolvedConnectionOptions;
  /**
   * Bounds commands on clients this driver creates (an injected client keeps its own
   * settings, as it always did).
   */
  readonly #deadlines: CommandDeadlines | undefined;
  /** ioredis's Command class, for single-node clients this driver creates (see `sendMapped`). */
  #Command: CommandConstructor | undefined;

  constructor(options: IoredisDriverOptions, resolved: ResolvedConnectionOptions) {
    super({
      label: IOREDIS_DRIVER_NAME,
      connectTimeoutMs: resolved.connectTimeoutMs,
      closeTimeoutMs: resolved.commandTimeoutMs,
      ownsClient: options.client === undefined || options.closeClient === true,
      logger: resolved.logger,
    });
    this.#options = options;
    this.#resolved = resolved;
    this.commandTimeoutMs = resolved.commandTimeoutMs;
    this.isCluster = options.client !== undefined ? isClusterClient(options.client) : resolved.clusterNodes !== undefined;
    this.writesLater = this.isCluster;
    this.#deadlines = options.client === undefined ? new CommandDeadlines(IOREDIS_DRIVER_NAME, resolved.commandTimeoutMs) : undefined;
  }

  #track<T>(promise: Promise<T>, command: string): Promise<T> {
    return this.#deadlines === undefined ? promise : this.#deadlines.track(promise, command);
  }

  protected async createClient(): Promise<Client> {
    if (this.#options.client !== undefined) return this.#options.client;
    const lib = this.#options.lib ?? (await loadOptionalModule<IoredisModule>('ioredis', () => import('ioredis')));
    const namespace = lib as IoredisModule & { default?: IoredisModule };
    const RedisClass = namespace.Redis ?? namespace.default?.Redis;
    if (this.#resolved.clusterNodes === undefined)
      this.#Command = (namespace as { Command?: CommandConstructor }).Command ?? (namespace.default as { Command?: CommandConstructor } | undefined)?.Command;
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

  protected async openClient(client: Client): Promise<void> {
    if (client.status === 'ready') {
      this.connection.markReady();
      return;
    }
    const ready = this.connection.wait();
    if (client.status === 'wait') client.connect().catch(() => undefined);
    await ready;
  }

  protected clientListeners(client: Client): Record<string, ClientListener> {
    const { username, password } = this.#resolved;
    const verifyAuth = password !== undefined && this.#options.client === undefined;
    const authArgs: RespArg[] = username === undefined ? ['AUTH', password ?? ''] : ['AUTH', username, password ?? ''];
    const onClose = () => {
      if (!this.closed) this.connection.markDown(new Error('Connection is closed.'));
    };
    return {
      ready: () => {
        this.logger?.debug?.('ioredis: ready');
        if (!verifyAuth) {
          this.connection.markReady();
          return;
        }
        // ioredis carries on unauthenticated when the server has no password set (it only
        // warns). A configured password that the server does not accept must be an error,
        // so AUTH is repeated here and the driver opens only when it succeeds.
        // On a cluster every node is checked once the cluster is ready.
        const nodes: Redis[] = isClusterClient(client) ? client.nodes('all') : [client];
        Promise.all(nodes.map((node) => this.#track(callBuffer(node, authArgs), 'AUTH'))).then(
          () => this.connection.markReady(),
          (error: unknown) => this.connection.markDown(error),
        );
      },
      error: (error) => {
        this.logger?.warn?.('ioredis: connection error', { error: error.message });
        this.connection.markDown(error);
      },
      close: onClose,
      end: onClose,
    };
  }

  protected isClientReady(client: Client): boolean {
    return client.status === 'ready';
  }

  protected quitClient(client: Client): Promise<unknown> {
    return client.quit();
  }

  protected destroyClient(client: Client): void {
    client.disconnect();
  }

  send(args: RespArg[]): Promise<unknown> {
    return this.#track(callBuffer(this.client!, args), args[0] as string);
  }

  sendMapped<T>(args: RespArg[], _routeKey: string | undefined, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T> {
    const CommandClass = this.#Command;
    if (CommandClass !== undefined && this.#deadlines !== undefined) {
      // What callBuffer does on a client with no key prefix and no auto-pipelining, with
      // the Command at hand so that the deadline can reject it.
      const command = new CommandClass(args[0] as string, args.slice(1), BUFFER_REPLY);
      (this.client as unknown as { sendCommand(command: unknown): unknown }).sendCommand(command);
      return this.#deadlines.trackCancelable(command.promise, command.reject, args[0] as string, onReply, onError);
    }
    const sent = callBuffer(this.client!, args);
    if (this.#deadlines !== undefined) return this.#deadlines.trackMapped(sent, args[0] as string, onReply, onError);
    return sent.then(onReply, (error: unknown) => {
      throw onError(error);
    });
  }

  async batch(commands: RespArg[][], atomic: boolean): Promise<unknown[]> {
    const client = this.client!;
    const pipeline = atomic ? client.multi() : client.pipeline();
    // Pipeline commands return the pipeline itself (chainable); replies come from exec().
    for (const args of commands) void callBuffer(pipeline as unknown as Redis, args);
    const results = await this.#track(pipeline.exec(), atomic ? 'MULTI/EXEC' : 'PIPELINE');
    if (results === null) throw new KVError('COMMAND_FAILED', 'ioredis: transaction was discarded');
    return results.map(([error, reply]) => error ?? reply);
  }

  async masters(): Promise<RespNode[]> {
    const client = this.client!;
    const nodes: Redis[] = isClusterClient(client) ? client.nodes('master') : [client];
    return nodes.map((node) => ({ send: (args: RespArg[]) => this.#track(callBuffer(node, args), args[0] as string) }));
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
  return new RespDriver(new IoredisTransport(options, resolveConnectionOptions(options)));
}
