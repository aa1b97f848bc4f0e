import { startRedisCluster, startRedisServer, type RedisClusterHandle, type RedisServerHandle } from '@lix/test-utils';
import type { TestProject } from 'vitest/node';
import type { LixRedisServers } from './provided.js';

/**
 * vitest `globalSetup`: starts one throwaway `redis-server` and one 3-master cluster for
 * the whole test run of a package, provides their addresses as `lixRedis` (read them with
 * `inject('lixRedis')`, which `describeEachDriver` does), and stops them at teardown.
 * Add it with `lixProject('<name>', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] })`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let single: RedisServerHandle | undefined;
  let cluster: RedisClusterHandle | undefined;
  try {
    [single, cluster] = await Promise.all([startRedisServer(), startRedisCluster({ masters: 3 })]);
  } catch (error) {
    await Promise.allSettled([single?.stop(), cluster?.stop()]);
    throw error;
  }
  const servers: LixRedisServers = {
    single: { host: single.host, port: single.port },
    cluster: cluster.startupNodes.map((node) => ({ host: node.host, port: node.port })),
  };
  project.provide('lixRedis', servers);
  const started = { single, cluster };
  return async () => {
    await Promise.allSettled([started.single.stop(), started.cluster.stop()]);
  };
}
