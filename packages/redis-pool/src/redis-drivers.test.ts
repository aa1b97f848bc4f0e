import { uniquePrefix } from '@lix/test-utils';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { describeEachDriver } from '../../../internal/driver-matrix/src/index.js';
import type { KVDriver } from './driver.js';
import { isKVError } from './shared/errors.js';
import { createIoredisDriver } from './ioredis.js';
import { loadOptionalModule } from './clients/load-module.js';
import { createNodeRedisDriver } from './node-redis.js';
import { defineScript } from './script.js';
import { keySlot } from './cluster/slot.js';

const bytes = (text: string) => new TextEncoder().encode(text);

const echoKeys = defineScript({
  name: 'echoKeys',
  lua: "return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], 1)}",
  memory: (store, keys, args) => [bytes(keys[0]!), args[0]!, store.incrBy(keys[0]!, 1)],
});

/** Runs a command on every node of the target (each cluster node has its own script cache). */
async function onEveryNode(addresses: { host: string; port: number }[], command: string[]): Promise<void> {
  await Promise.all(
    addresses.map(async ({ host, port }) => {
      const raw = new Redis({ host, port, lazyConnect: true });
      try {
        await raw.connect();
        await raw.call(command[0]!, ...command.slice(1));
      } finally {
        raw.disconnect();
      }
    }),
  );
}

describeEachDriver(
  'Redis driver specifics',
  (target) => {
    const nodes = () => target.clusterNodes ?? [{ host: '127.0.0.1', port: Number(new URL(target.redisUrl!).port) }];

    it('returns plain Uint8Array views, never Buffers', async () => {
      const driver = await target.createDriver();
      const key = `{${uniquePrefix()}}:k`;
      await driver.set(key, bytes('v'));
      const value = await driver.get(key);
      expect(value).toEqual(bytes('v'));
      expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
      const [listed] = await driver.mget([key]);
      expect(Object.getPrototypeOf(listed)).toBe(Uint8Array.prototype);
    });

    it('falls back from EVALSHA to EVAL after SCRIPT FLUSH on every node', async () => {
      const driver = await target.createDriver();
      const key = `{${uniquePrefix()}}:n`;
      expect(await driver.eval(echoKeys, [key], ['a'])).toEqual([bytes(key), bytes('a'), 1]);
      await onEveryNode(nodes(), ['SCRIPT', 'FLUSH']);
      expect(await driver.eval(echoKeys, [key], [7])).toEqual([bytes(key), bytes('7'), 2]);
    });

    it('keeps the input order when MGET, MSET and DEL span many slots', async () => {
      const driver = await target.createDriver();
      const prefix = uniquePrefix();
      const keys = Array.from({ length: 40 }, (_, index) => `${prefix}:${index}`);
      if (target.kind === 'cluster') expect(new Set(keys.map(keySlot)).size).toBeGreaterThan(20);
      await driver.mset(
        keys.map((key, index) => [key, bytes(String(index))] as const),
        { ttlMs: 60_000 },
      );
      const values = await driver.mget([...keys, `${prefix}:missing`]);
      expect(values.map((value) => (value === null ? null : new TextDecoder().decode(value)))).toEqual([...keys.map((_, index) => String(index)), null]);
      expect(await driver.pttl(keys[3]!)).toBeGreaterThan(50_000);
      expect(await driver.del([...keys.slice(0, 25), `${prefix}:missing`])).toBe(25);
      const seen: string[] = [];
      for await (const key of driver.scan({ match: `${prefix}:*`, count: 5 })) seen.push(key);
      expect(seen.sort()).toEqual(keys.slice(25).sort());
    });

    it('reports MEMORY USAGE for a key and null for a missing one', async () => {
      const driver = await target.createDriver();
      const key = `${uniquePrefix()}:m`;
      await driver.set(key, new Uint8Array(1000));
      expect(await driver.memoryUsage(key)).toBeGreaterThan(1000);
      expect(await driver.memoryUsage(`${key}:missing`)).toBeNull();
    });

    it('rejects commands after close() with CLIENT_CLOSED, and close() twice is fine', async () => {
      const driver = await target.createDriver();
      await driver.close();
      await driver.close();
      await expect(driver.get('k')).rejects.toSatisfy((error: unknown) => isKVError(error, 'CLIENT_CLOSED'));
      await expect(driver.eval(echoKeys, ['k'], [])).rejects.toSatisfy((error: unknown) => isKVError(error, 'CLIENT_CLOSED'));
    });

    if (target.kind === 'cluster') {
      it('agrees with CLUSTER KEYSLOT on the slot of tagged and untagged keys', async () => {
        const raw = new Redis(target.clusterNodes![0]!);
        try {
          for (const key of ['foo', 'bar', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'ünïcødé', uniquePrefix()]) {
            expect(await raw.cluster('KEYSLOT', key)).toBe(keySlot(key));
          }
        } finally {
          raw.disconnect();
        }
      });

      it('refuses a batch spanning slots with CROSS_SLOT, without sending it', async () => {
        const driver = await target.createDriver();
        const prefix = uniquePrefix();
        const batch = driver.batch();
        const first = batch.set(`{${prefix}a}`, bytes('1'));
        void batch.set(`{${prefix}b}`, bytes('2'));
        await expect(batch.exec()).rejects.toSatisfy((error: unknown) => isKVError(error, 'CROSS_SLOT'));
        await expect(first).rejects.toSatisfy((error: unknown) => isKVError(error, 'CROSS_SLOT'));
        expect(await driver.get(`{${prefix}a}`)).toBeNull();
      });

      it('refuses a script whose keys span slots with CROSS_SLOT', async () => {
        const driver = await target.createDriver();
        await expect(driver.eval(echoKeys, ['{a}1', '{b}2'], [])).rejects.toSatisfy((error: unknown) => isKVError(error, 'CROSS_SLOT'));
      });
    } else {
      it('selects the configured database', async () => {
        const url = new URL(target.redisUrl!);
        const create = target.name === 'ioredis' ? createIoredisDriver : createNodeRedisDriver;
        const db2: KVDriver = create({ url: `${target.redisUrl}/2` });
        const db0: KVDriver = create({ host: url.hostname, port: Number(url.port), db: 0 });
        try {
          const key = `${uniquePrefix()}:db`;
          await db2.set(key, bytes('two'));
          expect(await db0.get(key)).toBeNull();
          expect(await db2.get(key)).toEqual(bytes('two'));
        } finally {
          await Promise.all([db0.close(), db2.close()]);
        }
      });
    }
  },
  { only: ['ioredis', 'node-redis', 'ioredis-cluster', 'node-redis-cluster'] },
);

describe('optional client libraries', () => {
  it('turns a missing module into CLIENT_MISSING with the install command', async () => {
    const missing = Object.assign(new Error("Cannot find package 'ioredis'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(loadOptionalModule('ioredis', () => Promise.reject(missing))).rejects.toMatchObject({
      code: 'CLIENT_MISSING',
      message: 'install ioredis: pnpm add ioredis',
      cause: missing,
    });
  });
});
