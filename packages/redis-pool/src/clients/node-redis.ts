import type { RedisClientType, RedisClusterType } from 'redis';
import { CommandDeadlines } from '../shared/deadlines.js';
import { ClientLifecycle, type ClientListener } from './lifecycle.js';
import { classifyRedisError } from './error-mapping.js';
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

/** The `redis` (node-redis) module, as `import('redis')` returns it. */
export type NodeRedisModule = typeof import('redis');

// The driver talks to node-redis through raw sendCommand with its own reply mapping, so
// the client's generic command types are not needed here.
/** A node-redis single-node client (`createClient`). */
// biome-ignore lint/suspicious/noExplicitAny: any modules, functions, scripts and type mappings of the caller's client are accepted.
export type NodeRedisClient = RedisClientType<any, any, any, any, any>;
/** A node-redis cluster client (`createCluster`). */
// biome-ignore lint/suspicious/noExplicitAny: as for NodeRedisClient.
export type NodeRedisCluster = RedisClusterType<any, any, any, any, any>;

/** Options of {@link createNodeRedisDriver}. */
export interface NodeRedisDriverOptions extends RedisConnectionOptions {
  /**
   * Use this existing client (`createClient`) or cluster (`createCluster`). It must use
   * RESP2 (the default `RESP: 3` replies differ). The driver does not close it unless
   * `closeClient` is true, and connects it if it is not open yet.
   */
  client?: NodeRedisClient | NodeRedisCluster;
  /** Close an injected `client` in `close()` (default false; drivers always close clients they created). */
  closeClient?: boolean;
  /** The node-redis module to use instead of `import('redis')`. */
  lib?: NodeRedisModule;
}

/** `driverName` of drivers made by {@link createNodeRedisDriver}. */
export const NODE_REDIS_DRIVER_NAME = 'node-redis';

interface RawSender {
  sendCommand(args: RespArg[], options?: unknown): Promise<unknown>;
}
interface RawClusterSender {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: RespArg[], options?: unknown): Promise<unknown>;
}

function isClusterClient(client: NodeRedisClient | NodeRedisCluster): client is NodeRedisCluster {
  return 'masters' in client && typeof (client as NodeRedisCluster).nodeClient === 'function';
}

class NodeRedisTransport extends ClientLifecycle<NodeRedisClient | NodeRedisCluster> implements RespTransport {
  readonly driverName = NODE_REDIS_DRIVER_NAME;
  readonly isCluster: boolean;
  readonly commandTimeoutMs: number;
  // node-redis serialises queued commands on a later tick.
  readonly writesLater = true;
  readonly #options: NodeRedisDriverOptions;
  readonly #resolved: ResolvedConnectionOptions;
  /** Per-command options: reply type mapping, and node-redis' own timeout switched off. */
  #commandOptions: { typeMapping: Record<number, unknown>; timeout: number } | undefined;
  /**
   * The client with {@link #commandOptions} as its defaults (`withCommandOptions`): a
   * command sent without an options object of its own skips node-redis' merge of two
   * option objects, which costs about as much as the rest of the send.
   */
  #sender: (RawSender & RawClusterSender) | undefined;
  /** Like {@link #commandOptions} with status replies left as strings. */
  #plainOptions: { typeMapping: Record<number, unknown>; timeout: number } | undefined;
  /** The client with {@link #plainOptions} as its defaults, for commands other than scripts. */
  #plainSender: (RawSender & RawClusterSender) | undefined;
  readonly #deadlines: CommandDeadlines;
  /** Last error a cluster node reported, to explain a failed cluster connect. */
  #lastNodeError: Error | undefined;

  constructor(options: NodeRedisDriverOptions, resolved: ResolvedConnectionOptions) {
    super({
      label: NODE_REDIS_DRIVER_NAME,
      connectTimeoutMs: resolved.connectTimeoutMs,
      closeTimeoutMs: resolved.commandTimeoutMs,
      ownsClient: options.client === undefined || options.closeClient === true,
      logger: resolved.logger,
    });
    this.#options = options;
    this.#resolved = resolved;
    this.commandTimeoutMs = resolved.commandTimeoutMs;
    this.isCluster = options.client !== undefined ? isClusterClient(options.client) : resolved.clusterNodes !== undefined;
    this.#deadlines = new CommandDeadlines(NODE_REDIS_DRIVER_NAME, resolved.commandTimeoutMs);
  }

  protected async createClient(): Promise<NodeRedisClient | NodeRedisCluster> {
    const lib = this.#options.lib ?? (await loadOptionalModule<NodeRedisModule>('redis', () => import('redis')));
    const blob = lib.RESP_TYPES.BLOB_STRING;
    const simple = lib.RESP_TYPES.SIMPLE_STRING;
    // Integers as text: the RESP decoder accumulates digits in a double and rounds values
    // just below 2^53 (9007199254740991 comes back as …992); as text they convert exactly.
    const integer = lib.RESP_TYPES.NUMBER;
    // timeout 0: node-redis' default 5 s timeout arms an AbortSignal per command (costly)
    // and only covers commands not yet written; CommandDeadlines covers the whole wait.
    this.#commandOptions = { typeMapping: { [blob]: Buffer, [simple]: Buffer, [integer]: String }, timeout: 0 };
    // Status replies as bytes matter only where they reach the caller: script replies
    // (and batches, which may hold scripts). Elsewhere ('OK', 'PONG') a string is cheaper.
    this.#plainOptions = { typeMapping: { [blob]: Buffer, [integer]: String }, timeout: 0 };
    return this.#options.client ?? this.#create(lib);
  }

  protected async openClient(client: NodeRedisClient | NodeRedisCluster): Promise<void> {
    this.#sender = this.#withOptions(client);
    this.#plainSender = client.withCommandOptions(this.#plainOptions!) as unknown as RawSender & RawClusterSender;
    if (isClusterClient(client)) {
      // A cluster client connects every master before resolving; per-node outages then
      // surface as offline errors from the node's own client (no queue, no waiting).
      if (!client.isOpen) {
        const connecting = client.connect();
        let timer: NodeJS.Timeout | undefined;
        const failed = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new KVError('CONNECTION_LOST', `node-redis: cluster not reachable within ${this.#resolved.connectTimeoutMs} ms`)),
            this.#resolved.connectTimeoutMs,
          );
          timer.unref();
        });
        try {
          await Promise.race([connecting, failed]);
        } catch (error) {
          connecting.catch(() => undefined);
          // A cluster client does not retry a failed first connect: drop it, so the next
          // command starts over with a fresh one.
          this.dropClient();
          // "All the root nodes are unavailable" hides a rejected password: say so.
          const last = this.#lastNodeError;
          if (last !== undefined && classifyRedisError(last) === 'AUTH_FAILED') {
            throw new KVError('AUTH_FAILED', `node-redis: Redis rejected the credentials: ${last.message}`, { cause: last });
          }
          throw error;
        } finally {
          clearTimeout(timer);
        }
      }
      this.connection.markReady();
      return;
    }
    if (client.isReady) {
      this.connection.markReady();
      return;
    }
    const ready = this.connection.wait();
    if (!client.isOpen) client.connect().catch(() => undefined);
    await ready;
  }

  #create(lib: NodeRedisModule): NodeRedisClient | NodeRedisCluster {
    const resolved = this.#resolved;
    const socket = {
      connectTimeout: resolved.connectTimeoutMs,
      ...(resolved.keepAliveMs === false ? { keepAlive: false as const } : { keepAlive: true as const, keepAliveInitialDelay: resolved.keepAliveMs }),
      // Reconnect forever with a short capped backoff; commands meanwhile fail fast
      // because the offline queue is disabled.
      reconnectStrategy: (retries: number) => reconnectDelay(retries + 1, resolved.reconnectMaxDelayMs),
      ...(resolved.tls === undefined ? {} : { tls: true as const, ...resolved.tls }),
    };
    const common = {
      username: resolved.username,
      password: resolved.password,
      // RESP2 keeps replies in the shapes both drivers map (flat HGETALL, Lua false as nil).
      RESP: 2 as const,
      // No offline queue: while Redis is away commands reject at once instead of piling up.
      disableOfflineQueue: true,
    };
    if (resolved.clusterNodes !== undefined) {
      return lib.createCluster({
        rootNodes: resolved.clusterNodes.map((node) => ({ socket: { host: node.host, port: node.port, ...socket } })),
        defaults: { ...common, socket },
        RESP: 2,
        useReplicas: false,
      }) as unknown as NodeRedisCluster;
    }
    return lib.createClient({
      ...common,
      database: resolved.db,
      socket: { host: resolved.host, port: resolved.port, ...socket },
    }) as unknown as NodeRedisClient;
  }

  protected clientListeners(client: NodeRedisClient | NodeRedisCluster): Record<string, ClientListener> {
    const logger = this.logger;
    const cluster = isClusterClient(client);
    const onEnd = () => {
      if (!this.closed && !cluster) this.connection.markDown(new Error('Socket closed unexpectedly'));
    };
    const listeners: Record<string, ClientListener> = {
      error: (error) => {
        logger?.warn?.('node-redis: connection error', { error: error.message });
        if (cluster) this.#lastNodeError = error;
        else this.connection.markDown(error);
      },
      'node-error': (error) => {
        this.#lastNodeError = error;
        logger?.warn?.('node-redis: cluster node error', { error: error.message });
      },
    };
    if (!cluster) {
      listeners.ready = () => {
        logger?.debug?.('node-redis: ready');
        this.connection.markReady();
      };
      listeners.end = onEnd;
      listeners.reconnecting = onEnd;
    }
    return listeners;
  }

  protected isClientReady(client: NodeRedisClient | NodeRedisCluster): boolean {
    return isClusterClient(client) ? client.isOpen : client.isReady;
  }

  protected quitClient(client: NodeRedisClient | NodeRedisCluster): Promise<unknown> {
    return client.close();
  }

  protected destroyClient(client: NodeRedisClient | NodeRedisCluster): void {
    if (client.isOpen) client.destroy();
  }

  protected override onClosed(): void {
    // A command still waiting once the client is gone (a frozen server that never
    // answered) would otherwise wait forever: the deadline timer stops with the driver.
    this.#deadlines.failAll(new KVError('CLIENT_CLOSED', 'node-redis: driver closed before the command was answered'));
    this.#deadlines.dispose();
  }

  #withOptions(client: NodeRedisClient | NodeRedisCluster): RawSender & RawClusterSender {
    return client.withCommandOptions(this.#commandOptions!) as unknown as RawSender & RawClusterSender;
  }

  #sendRaw(args: RespArg[], routeKey: string | undefined): Promise<unknown> {
    const command = args[0];
    const sender = command === 'EVALSHA' || command === 'EVAL' ? this.#sender! : this.#plainSender!;
    return this.isCluster ? sender.sendCommand(routeKey, false, args) : sender.sendCommand(args);
  }

  send(args: RespArg[], routeKey: string | undefined): Promise<unknown> {
    return this.#deadlines.track(this.#sendRaw(args, routeKey), String(args[0]));
  }

  sendMapped<T>(args: RespArg[], routeKey: string | undefined, onReply: (reply: unknown) => T, onError: (error: unknown) => unknown): Promise<T> {
    return this.#deadlines.trackMapped(this.#sendRaw(args, routeKey), args[0] as string, onReply, onError);
  }

  async batch(commands: RespArg[][], atomic: boolean, routeKey: string | undefined): Promise<unknown[]> {
    const client = this.client!;
    const settle = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);
    if (!atomic && this.isCluster) {
      // Commands for one node queued in the same tick go out as one write.
      return this.#deadlines.track(Promise.all(commands.map((args) => settle(this.send(args, routeKey)))), 'PIPELINE');
    }
    // Raw commands on the node's client rather than node-redis' multi(): its exec() loses
    // the Buffer mapping inside nested replies and, as a pipeline, stops at the first error.
    let node: RawSender;
    if (!this.isCluster) node = this.#sender!;
    else {
      const cluster = client as NodeRedisCluster;
      node = this.#withOptions(
        (await (routeKey === undefined ? cluster.nodeClient(cluster.masters[0]!) : cluster.getNodeClientForKey(routeKey))) as NodeRedisClient,
      );
    }
    if (!atomic) {
      const settled = Promise.allSettled(commands.map((args) => node.sendCommand(args)));
      return this.#deadlines
        .track(settled, 'PIPELINE')
        .then((results) => results.map((result) => (result.status === 'fulfilled' ? result.value : result.reason)));
    }
    // One chainId keeps MULTI … EXEC together in node-redis' write queue.
    const chained = { ...this.#commandOptions, chainId: Symbol('lix-multi') };
    const opened = settle(node.sendCommand(['MULTI'], chained));
    const queued = commands.map((args) => settle(node.sendCommand(args, chained)));
    const executed = node.sendCommand(['EXEC'], chained);
    try {
      const replies = await this.#deadlines.track(executed, 'MULTI/EXEC');
      if (!Array.isArray(replies)) throw new KVError('COMMAND_FAILED', 'node-redis: transaction was discarded');
      return replies;
    } catch (error) {
      // EXECABORT: a command was refused while queueing; report that command's own error.
      const refused = await Promise.all(queued);
      const openError = await opened;
      if (openError instanceof Error) throw openError;
      return refused.map((reply) => (reply instanceof Error ? reply : error));
    }
  }

  async masters(): Promise<RespNode[]> {
    const client = this.client!;
    if (!isClusterClient(client)) return [{ send: (args) => this.send(args, undefined) }];
    const clients = await Promise.all(client.masters.map((master) => client.nodeClient(master)));
    return clients.map((node) => {
      const sender = this.#withOptions(node as NodeRedisClient);
      return { send: (args: RespArg[]) => this.#deadlines.track(sender.sendCommand(args), String(args[0])) };
    });
  }
}

const DRIVER_OPTION_KEYS: readonly string[] = [...CONNECTION_OPTION_KEYS, 'client', 'closeClient', 'lib'];

/**
 * A {@link KVDriver} over node-redis (`redis` package), for a single node or a Redis
 * Cluster (`cluster.nodes`). node-redis is loaded on first use; without it installed
 * commands reject with `CLIENT_MISSING`. While Redis is unreachable commands fail fast
 * with `CONNECTION_LOST`, and the same driver reconnects by itself.
 */
export function createNodeRedisDriver(options: NodeRedisDriverOptions = {}): KVDriver {
  checkOptionsObject(options, DRIVER_OPTION_KEYS, 'createNodeRedisDriver');
  return new RespDriver(new NodeRedisTransport(options, resolveConnectionOptions(options)));
}
