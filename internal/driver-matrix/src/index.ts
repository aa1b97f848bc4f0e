import type { Clock, KVDriver } from '@lix/redis-pool';
import { createIoredisDriver } from '@lix/redis-pool/ioredis';
import { createMemoryDriver, createMemoryServer, type MemoryServer } from '@lix/redis-pool/memory';
import { createNodeRedisDriver } from '@lix/redis-pool/node-redis';
import { afterAll, describe, inject } from 'vitest';
import type { LixRedisServers, RedisAddress } from './provided.js';

export type { LixRedisServers, RedisAddress } from './provided.js';

/** Names of the drivers a test body can run against. */
export type DriverTargetName = 'memory' | 'ioredis' | 'node-redis' | 'ioredis-cluster' | 'node-redis-cluster';

/** Every target, in registration order. */
export const DRIVER_TARGET_NAMES: readonly DriverTargetName[] = ['memory', 'ioredis', 'node-redis', 'ioredis-cluster', 'node-redis-cluster'];

/** Options of {@link DriverTarget.createDriver}. */
export interface CreateTargetDriverOptions {
  /**
   * Clock of the in-memory keyspace (memory target only; the first driver of a describe
   * block fixes it). Redis targets run on the server's real time and ignore it.
   */
  clock?: Clock;
}

/** One driver configuration a test body runs against. */
export interface DriverTarget {
  readonly name: DriverTargetName;
  readonly kind: 'memory' | 'single' | 'cluster';
  /**
   * A new driver (a new connection for Redis targets). Memory drivers of one describe
   * block share one keyspace, as clients of one Redis would. Closed automatically in afterAll.
   */
  createDriver(options?: CreateTargetDriverOptions): Promise<KVDriver>;
  /** `redis://host:port` of the single node (single targets only). */
  readonly redisUrl?: string;
  /** Seed nodes of the cluster (cluster targets only). */
  readonly clusterNodes?: RedisAddress[];
}

/** Options of {@link describeEachDriver}. */
export interface DescribeEachDriverOptions {
  /** Run only these targets (default: all five). */
  only?: DriverTargetName[];
}

function servers(): LixRedisServers {
  const provided = inject('lixRedis');
  if (provided === undefined) {
    throw new Error(
      "describeEachDriver: no Redis servers were provided. Add the global setup to the package's vitest.config.ts: " +
        "lixProject('<name>', { globalSetup: ['../../internal/driver-matrix/src/global-setup.ts'] })",
    );
  }
  return provided;
}

function makeTarget(name: DriverTargetName, created: KVDriver[]): DriverTarget {
  const track = async (driver: KVDriver): Promise<KVDriver> => {
    created.push(driver);
    await driver.connect();
    return driver;
  };
  if (name === 'memory') {
    let keyspace: MemoryServer | undefined;
    return {
      name,
      kind: 'memory',
      createDriver: (options) => {
        keyspace ??= createMemoryServer(options?.clock === undefined ? {} : { clock: options.clock });
        return track(createMemoryDriver({ store: keyspace }));
      },
    };
  }
  const { single, cluster } = servers();
  const create = name.startsWith('ioredis') ? createIoredisDriver : createNodeRedisDriver;
  if (name === 'ioredis' || name === 'node-redis') {
    return {
      name,
      kind: 'single',
      redisUrl: `redis://${single.host}:${single.port}`,
      createDriver: () => track(create({ host: single.host, port: single.port })),
    };
  }
  return {
    name,
    kind: 'cluster',
    clusterNodes: cluster,
    createDriver: () => track(create({ cluster: { nodes: cluster } })),
  };
}

/**
 * Registers `describe(`${title} [${target}]`, …)` once per driver target (in-memory,
 * ioredis and node-redis on a single node and on a 3-master cluster) and hands the body
 * its {@link DriverTarget}. Drivers made through the target close after the block.
 * Redis targets need `src/global-setup.ts` as the package's vitest globalSetup.
 */
export function describeEachDriver(title: string, body: (target: DriverTarget) => void, options?: DescribeEachDriverOptions): void {
  for (const name of options?.only ?? DRIVER_TARGET_NAMES) {
    describe(`${title} [${name}]`, () => {
      const created: KVDriver[] = [];
      afterAll(async () => {
        await Promise.allSettled(created.map((driver) => driver.close()));
      });
      body(makeTarget(name, created));
    });
  }
}
