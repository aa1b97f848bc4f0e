import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from './redis-server.js';

/** Where a throwaway Redis runs, as driver connection options take it. */
export type RedisConnection = { host: string; port: number } | { cluster: { nodes: { host: string; port: number }[] } };

/**
 * A throwaway single node or 3-master cluster that a test may take down whole and bring
 * back: outage and chaos tests need servers of their own, never the shared ones.
 */
export interface OutageTopology {
  readonly kind: 'single' | 'cluster';
  /** Spread into a driver's options. */
  readonly connection: RedisConnection;
  /** Every server process (one, or each cluster node). */
  readonly servers: readonly RedisServerHandle[];
  /** Kills every server (default SIGKILL) and waits until they have exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts every killed server again on its port; a cluster also waits until it reports ok. */
  restart(): Promise<void>;
  /** Freezes every server (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void;
  /** Undoes {@link freeze}. */
  thaw(): void;
  stop(): Promise<void>;
}

/** Starts a throwaway single node or 3-master cluster (no replicas) for an outage test. */
export async function startOutageTopology(kind: 'single' | 'cluster'): Promise<OutageTopology> {
  let single: RedisServerHandle | undefined;
  let cluster: RedisClusterHandle | undefined;
  if (kind === 'single') single = await startRedisServer();
  else cluster = await startRedisCluster({ masters: 3 });
  const servers = single ? [single] : cluster!.nodes;
  const connection: RedisConnection = single ? { host: single.host, port: single.port } : { cluster: { nodes: cluster!.startupNodes } };
  const signalAll = (signal: NodeJS.Signals) => {
    for (const server of servers) {
      const pid = server.pid();
      if (pid !== undefined && server.isRunning()) process.kill(pid, signal);
    }
  };
  return {
    kind,
    connection,
    servers,
    kill: async (signal = 'SIGKILL') => {
      // SIGKILL ends a frozen server as it is (input unread, so connections are reset);
      // any other signal would wait until the process runs again.
      if (signal !== 'SIGKILL') signalAll('SIGCONT');
      await Promise.all(servers.map((server) => server.kill(signal)));
    },
    restart: async () => {
      await Promise.all(servers.filter((server) => !server.isRunning()).map((server) => server.restart()));
      // Nodes reload their cluster config from nodes-<port>.conf; wait until slots are served again.
      await cluster?.waitHealthy();
    },
    freeze: () => signalAll('SIGSTOP'),
    thaw: () => signalAll('SIGCONT'),
    stop: async () => {
      signalAll('SIGCONT');
      if (cluster) await cluster.stop();
      else await single!.stop();
    },
  };
}
