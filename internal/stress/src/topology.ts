import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '@lix/test-utils';
import type { Rng } from './rng.js';
import type { RedisTarget } from './system.js';

/** The two Redis deployments the harness runs against. */
export type TopologyKind = 'single' | 'cluster';

/** Kinds of injected faults, as the report names them. */
export type FaultKind = 'workerKill' | 'redisRestart' | 'masterFailover' | 'postgresKill';

/** A Redis fault that was carried out. */
export interface RedisFault {
  kind: Exclude<FaultKind, 'workerKill' | 'postgresKill'>;
  /** From the SIGKILL until Redis served every slot again. */
  outageMs: number;
  detail: string;
}

/** A running Redis deployment the harness owns. */
export interface Topology {
  kind: TopologyKind;
  target: RedisTarget;
  /** SIGKILLs a Redis process and brings the deployment back (restart, or replica promotion). */
  injectFault(rng: Rng): Promise<RedisFault>;
  /** `used_memory` summed over the masters. */
  usedMemoryBytes(): Promise<number>;
  /** Keys summed over the masters and databases. */
  keyCount(): Promise<number>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function infoField(info: string, field: string): number {
  const match = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

function keysFromKeyspace(info: string): number {
  let total = 0;
  for (const match of info.matchAll(/^db\d+:keys=(\d+)/gm)) total += Number(match[1]);
  return total;
}

/** A single node without persistence: a SIGKILL loses everything it held. */
export async function startSingle(): Promise<Topology> {
  const server: RedisServerHandle = await startRedisServer();
  return {
    kind: 'single',
    target: { kind: 'single', host: server.host, port: server.port },
    async injectFault(rng) {
      const downMs = rng.int(300, 1500);
      const started = Date.now();
      await server.kill('SIGKILL');
      await sleep(downMs);
      await server.restart();
      return { kind: 'redisRestart', outageMs: Date.now() - started, detail: `port ${server.port} down ${downMs} ms, restarted empty` };
    },
    usedMemoryBytes: async () => infoField(await server.cli('info', 'memory'), 'used_memory'),
    keyCount: async () => keysFromKeyspace(await server.cli('info', 'keyspace')),
    stop: () => server.stop(),
  };
}

/** A cluster of 3 masters with 1 replica each; a killed master's replica is promoted. */
export async function startCluster(nodeTimeoutMs: number): Promise<Topology> {
  const cluster: RedisClusterHandle = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs });
  const masters = async () => (await cluster.masterPorts()).map((port) => cluster.nodeByPort(port)).filter((node) => node?.isRunning());
  return {
    kind: 'cluster',
    target: { kind: 'cluster', nodes: cluster.startupNodes },
    async injectFault(rng) {
      const ports = await cluster.masterPorts();
      // Only a master with a synced replica can fail over; the restarted one from a previous fault is a replica now.
      const candidates: number[] = [];
      for (const port of ports) if ((await cluster.replicaPortsOf(port)).length > 0) candidates.push(port);
      const victim = rng.pick(candidates.length > 0 ? candidates : ports);
      const node = cluster.nodeByPort(victim)!;
      const started = Date.now();
      await node.kill('SIGKILL');
      const promoted = await cluster.waitForFailover(victim, 60_000);
      const outageMs = Date.now() - started;
      // Back as a replica of the new master, so the next failover has a replica to promote.
      await node.restart();
      await cluster.waitForReplica(victim, 60_000);
      return { kind: 'masterFailover', outageMs, detail: `master ${victim} killed, replica ${promoted} promoted after ${outageMs} ms` };
    },
    async usedMemoryBytes() {
      let total = 0;
      for (const node of await masters()) total += infoField(await node!.cli('info', 'memory'), 'used_memory');
      return total;
    },
    async keyCount() {
      let total = 0;
      for (const node of await masters()) total += keysFromKeyspace(await node!.cli('info', 'keyspace'));
      return total;
    },
    stop: () => cluster.stop(),
  };
}
