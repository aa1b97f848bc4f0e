import type { Logger } from '../driver.js';
import { KVError } from '../shared/errors.js';
import { ConnectionGate } from './connection-gate.js';

/** The part of a client library's client the lifecycle needs: its event emitter. */
export interface ClientEvents {
  // biome-ignore lint/suspicious/noExplicitAny: the libraries type listeners as taking any.
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** A client event handler of a transport. */
export type ClientListener = (error: Error) => void;

/** Settings of a {@link ClientLifecycle}. */
export interface ClientLifecycleOptions {
  /** Driver name, used in error messages (`'ioredis'`, `'node-redis'`). */
  label: string;
  connectTimeoutMs: number;
  /** How long a graceful QUIT may take in `close()` before the socket is destroyed. */
  closeTimeoutMs: number;
  /** False for an injected client the driver must leave open. */
  ownsClient: boolean;
  logger: Logger | undefined;
}

const noop = () => undefined;

/**
 * The connection lifecycle both Redis client drivers share: lazy connect with one start
 * attempt at a time (a failed one is retried by the next call), the {@link ConnectionGate}
 * that makes commands wait for the first connection or fail fast during an outage, client
 * listeners that are switched off rather than removed, and a bounded graceful close.
 * A transport subclasses it and supplies the library-specific steps.
 *
 * Why listeners are never removed: node-redis hands out `Object.create(realClient)`, and
 * `off()` of the last listener through that wrapper gives the wrapper a listener table of
 * its own, so a listener added afterwards never hears the real client's 'error': the next
 * socket reset (a server killed during or after close) becomes an uncaught exception. A
 * switched-off listener keeps absorbing such errors, on every library alike.
 */
export abstract class ClientLifecycle<C extends ClientEvents> {
  /** Decides whether commands go out now, wait, or fail fast. */
  protected readonly connection: ConnectionGate;
  protected readonly logger: Logger | undefined;
  /** The client, once created and listened to. */
  protected client: C | undefined;
  /** Set by `close()`: nothing may start afterwards. */
  protected closed = false;
  readonly #options: ClientLifecycleOptions;
  #starting: Promise<void> | undefined;
  #switchOff: (() => void) | undefined;

  constructor(options: ClientLifecycleOptions) {
    this.#options = options;
    this.logger = options.logger;
    this.connection = new ConnectionGate(options.label, options.connectTimeoutMs);
  }

  /** Makes the client (or returns the injected one); not connected yet. */
  protected abstract createClient(): Promise<C> | C;
  /** Event handlers on the client, by event name; called only until the client is released. */
  protected abstract clientListeners(client: C): Record<string, ClientListener>;
  /** Connects a fresh client and resolves once it is ready (or rejects). */
  protected abstract openClient(client: C): Promise<void>;
  /** True when a graceful QUIT can be sent. */
  protected abstract isClientReady(client: C): boolean;
  /** Sends QUIT and resolves once the server has closed the connection. */
  protected abstract quitClient(client: C): Promise<unknown>;
  /** Closes the socket at once (a no-op once it is closed). */
  protected abstract destroyClient(client: C): void;
  /** Runs last in `close()`, whatever happened before (e.g. fail commands still waiting). */
  protected onClosed(): void {}

  /** `undefined` when commands may go out now, else a promise to await (rejects with a KVError). */
  gate(): Promise<void> | undefined {
    if (this.connection.ready) return undefined;
    if (this.client === undefined) return this.connect();
    return this.connection.check();
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new KVError('CLIENT_CLOSED', `${this.#options.label}: connect() after close()`));
    // Once the client exists the gate answers (the client reconnects by itself); until
    // then one start attempt runs at a time, and a failed one is retried by the next call.
    if (this.client !== undefined && this.#starting === undefined) return this.connection.check() ?? Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting.then(() => (this.connection.ready ? undefined : this.connection.check()));
  }

  async #start(): Promise<void> {
    const client = await this.createClient();
    if (this.closed) {
      // Not yet listened to: give it a listener so a late socket error stays handled, and
      // release a client this driver made.
      client.on('error', noop);
      if (this.#options.ownsClient) this.destroyClient(client);
      throw new KVError('CLIENT_CLOSED', `${this.#options.label}: closed while connecting`);
    }
    this.client = client;
    this.#listen(client);
    await this.openClient(client);
  }

  #listen(client: C): void {
    let active = true;
    // An 'error' listener is a must: without one a socket error is an uncaught exception.
    const listeners = { error: noop as ClientListener, ...this.clientListeners(client) };
    for (const [event, handler] of Object.entries(listeners)) {
      client.on(event, (error: Error) => {
        if (active) handler(error);
        else if (event === 'error') this.logger?.debug?.(`${this.#options.label}: error on a released client`, { error: error?.message });
      });
    }
    this.#switchOff = () => {
      active = false;
    };
  }

  /**
   * Forgets a client whose first connection failed for good (its listeners stay, switched
   * off, absorbing late socket errors), so the next command starts over with a fresh one.
   */
  protected dropClient(): void {
    const client = this.client;
    this.#switchOff?.();
    this.client = undefined;
    if (client !== undefined && this.#options.ownsClient) this.destroyClient(client);
  }

  /** Gracefully closes the connection (QUIT, bounded by `closeTimeoutMs`, then destroy). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const label = this.#options.label;
    this.connection.fail(new KVError('CLIENT_CLOSED', `${label}: driver closed`));
    try {
      // A start in progress sees `closed` and releases what it made.
      await this.#starting?.catch(noop);
      const client = this.client;
      if (client === undefined) return;
      this.#switchOff?.();
      if (!this.#options.ownsClient) return;
      if (this.isClientReady(client)) {
        await Promise.race([this.quitClient(client).catch(noop), new Promise((resolve) => setTimeout(resolve, this.#options.closeTimeoutMs).unref())]);
      }
      this.destroyClient(client);
    } finally {
      this.onClosed();
    }
  }
}
