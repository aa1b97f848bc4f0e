import { afterAll, describe, expect, it } from 'vitest';
import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from './redis-server.js';
import { loadCorpus } from './fixtures.js';

describe('throwaway redis-server', () => {
  const started: RedisServerHandle[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });

  it('starts on a free port, loses its data when killed, and answers again after restart', async () => {
    const server = await startRedisServer();
    started.push(server);
    expect(server.port).not.toBe(6379);
    await server.cli('set', 'k', 'v');
    expect((await server.cli('get', 'k')).trim()).toBe('v');
    await server.kill();
    expect(server.isRunning()).toBe(false);
    await server.restart();
    expect(server.isRunning()).toBe(true);
    expect((await server.cli('get', 'k')).trim()).toBe('');
  });

  it('requires the password it was started with', async () => {
    const server = await startRedisServer({ password: 's3cret' });
    started.push(server);
    expect((await server.cli('ping')).trim()).toBe('PONG');
    expect(server.url).toContain(':s3cret@');
  });
});

describe('throwaway redis cluster', () => {
  let cluster: RedisClusterHandle | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('forms a 3-master cluster with every slot covered', async () => {
    cluster = await startRedisCluster({ masters: 3 });
    expect(cluster.nodes).toHaveLength(3);
    expect(await cluster.masterPorts()).toHaveLength(3);
    const info = await cluster.nodes[0]!.cli('cluster', 'info');
    expect(info).toContain('cluster_slots_assigned:16384');
  });
});

describe('corpus fixture', () => {
  it('holds 146 conversations and 5078 turns', () => {
    const corpus = loadCorpus();
    expect(corpus).toHaveLength(146);
    expect(corpus.reduce((sum, conversation) => sum + conversation.turns.length, 0)).toBe(5078);
  });
});

describe('throwaway redis cluster with replicas', () => {
  let cluster: RedisClusterHandle | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('promotes the replica of a killed master, and takes the restarted master back as a replica', async () => {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
    const masters = await cluster.masterPorts();
    expect(masters).toHaveLength(3);
    const victim = masters[0]!;
    const replicas = await cluster.replicaPortsOf(victim);
    expect(replicas).toHaveLength(1);
    await cluster.nodeByPort(victim)!.kill();
    const promoted = await cluster.waitForFailover(victim, 30_000);
    expect(promoted).toBe(replicas[0]);
    expect((await cluster.masterPorts()).sort()).toEqual([...masters.slice(1), promoted].sort());
    await cluster.nodeByPort(victim)!.restart();
    await cluster.waitForReplica(victim, 30_000);
    const victimInfo = (await cluster.clusterNodes()).find((info) => info.port === victim);
    expect(victimInfo?.role).toBe('replica');
    expect(await cluster.replicaPortsOf(promoted)).toEqual([victim]);
  });
});
