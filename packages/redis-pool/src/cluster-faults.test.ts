import { startRedisCluster, uniquePrefix, type RedisClusterHandle } from '@lix/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnectionOptions } from './clients/connection-options.js';
import type { KVDriver } from './driver.js';
import { isKVError } from './shared/errors.js';
import { createIoredisDriver } from './ioredis.js';
import { createNodeRedisDriver } from './node-redis.js';
import { keySlot } from './cluster/slot.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** A key that lives on the master listening on `port` (slot ranges from CLUSTER SLOTS). */
async function keyOnNode(cluster: RedisClusterHandle, port: number): Promise<string> {
  const raw = new Redis(cluster.startupNodes[0]!);
  let ranges: { from: number; to: number; port: number }[];
  try {
    const slots = (await raw.cluster('SLOTS')) as unknown as [number, number, [string, number, ...unknown[]]][];
    ranges = slots.map(([from, to, master]) => ({ from, to, port: Number(master[1]) }));
  } finally {
    raw.disconnect();
  }
  const owned = ranges.filter((range) => range.port === port);
  for (let attempt = 0; ; attempt++) {
    const key = `${uniquePrefix()}:${attempt}`;
    const slot = keySlot(key);
    if (owned.some((range) => slot >= range.from && slot <= range.to)) return key;
  }
}

describe.each([
  ['ioredis', (options: RedisConnectionOptions) => createIoredisDriver(options)],
  ['node-redis', (options: RedisConnectionOptions) => createNodeRedisDriver(options)],
] as const)('%s driver when a cluster master dies', (_name, create) => {
  let cluster: RedisClusterHandle;
  let driver: KVDriver;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    driver = create({ cluster: { nodes: cluster.startupNodes }, commandTimeoutMs: 1000, connectTimeoutMs: 1000, reconnectMaxDelayMs: 200 });
    await driver.connect();
  });
  afterAll(async () => {
    await driver.close();
    await cluster.stop();
  });

  it('fails with AUTH_FAILED when a password is given to a cluster without one (no fallback)', async () => {
    const wrong = create({ cluster: { nodes: cluster.startupNodes }, password: 'not-configured', connectTimeoutMs: 2000 });
    try {
      const error = await wrong.get('k').then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isKVError(error, 'AUTH_FAILED')).toBe(true);
    } finally {
      await wrong.close();
    }
  });

  it('fails commands for the dead master with a typed error within the timeout, serves the others, and recovers after restart', async () => {
    const victim = cluster.nodes[2]!;
    const survivor = cluster.nodes[0]!;
    const lostKey = await keyOnNode(cluster, victim.port);
    const liveKey = await keyOnNode(cluster, survivor.port);
    await driver.set(lostKey, bytes('a'));
    await driver.set(liveKey, bytes('b'));
    await victim.kill();
    const started = Date.now();
    const failure = await driver.get(lostKey).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(isKVError(failure, 'CONNECTION_LOST') || isKVError(failure, 'TIMEOUT')).toBe(true);
    expect(await driver.get(liveKey)).toEqual(bytes('b'));
    await victim.restart();
    await cluster.waitHealthy();
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await driver.set(lostKey, bytes('again'));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(await driver.get(lostKey)).toEqual(bytes('again'));
  });
});
