import { afterAll, describe, expect, it } from 'vitest';
import { describeEachDriver } from '../../../internal/driver-matrix/src/index.js';
import type { KVDriver } from './driver.js';
import { KVError } from './shared/errors.js';
import { createIoredisDriver } from './ioredis.js';
import { createMemoryDriver, createMemoryServer } from './memory.js';
import { createNodeRedisDriver } from './node-redis.js';
import { getPooledDriver } from './pool.js';
import { defineScript } from './script.js';

/**
 * Arguments a caller (or a bug) may pass: every one is refused with a KVError
 * `INVALID_ARGUMENT`, never a TypeError from deep inside a client library.
 */

const circular: Record<string, unknown> = {};
circular.self = circular;
const noPrototype = Object.create(null) as object;

async function expectInvalid(call: () => unknown): Promise<KVError> {
  const error = await Promise.resolve()
    .then(call)
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error, 'expected a KVError INVALID_ARGUMENT').toBeInstanceOf(KVError);
  expect((error as KVError).code).toBe('INVALID_ARGUMENT');
  return error as KVError;
}

const script = defineScript({ name: 'validation', lua: 'return 1', memory: () => 1 });

describeEachDriver('commands with arguments of the wrong type', (target) => {
  let driver: KVDriver;
  const connect = async () => (driver ??= await target.createDriver());
  const bad = (run: (d: KVDriver) => unknown) => async () => run(await connect());

  it.each([
    ['get(null)', bad((d) => d.get(null as never))],
    ['set(key, value, options: 5)', bad((d) => d.set('k', new Uint8Array(1), 5 as never))],
    ['set(key, value, { ttlMs: 10n })', bad((d) => d.set('k', new Uint8Array(1), { ttlMs: 10n as never }))],
    ['del(null)', bad((d) => d.del(null as never))],
    ['del([null])', bad((d) => d.del([null as never]))],
    ['mget(undefined)', bad((d) => d.mget(undefined as never))],
    ['mget(["k", {}])', bad((d) => d.mget(['k', {} as never]))],
    ['mset(5)', bad((d) => d.mset(5 as never))],
    ['mset([["k", "not bytes"]])', bad((d) => d.mset([['k', 'not bytes' as never]]))],
    ['rpush(key, null)', bad((d) => d.rpush('k', null as never))],
    ['hset(key, null)', bad((d) => d.hset('k', null as never))],
    ['hget(key, {})', bad((d) => d.hget('k', {} as never))],
    ['hdel(key, "f")', bad((d) => d.hdel('k', 'f' as never))],
    ['zadd(key, [null])', bad((d) => d.zadd('k', [null as never]))],
    ['zadd(key, [{ score: 1, member: {} }])', bad((d) => d.zadd('k', [{ score: 1, member: {} as never }]))],
    ['zrem(key, 7)', bad((d) => d.zrem('k', 7 as never))],
    ['zrangeByScore(key, 0, 1, null)', bad((d) => d.zrangeByScore('k', 0, 1, null as never))],
    ['eval(null, [], [])', bad((d) => d.eval(null as never, [], []))],
    ['eval(script, "k", [])', bad((d) => d.eval(script, 'k' as never, []))],
    ['eval(script, [], [circular])', bad((d) => d.eval(script, [], [circular as never]))],
  ])('%s rejects with INVALID_ARGUMENT', async (_name, call) => {
    await expectInvalid(call);
  });

  it('scan(null) and a scan count without a prototype reject with INVALID_ARGUMENT', async () => {
    const d = await connect();
    await expectInvalid(async () => {
      for await (const _key of d.scan(null as never)) break;
    });
    await expectInvalid(async () => {
      for await (const _key of d.scan({ match: '*', count: noPrototype as never })) break;
    });
  });
});

describe('options objects', () => {
  const made: KVDriver[] = [];
  afterAll(async () => {
    await Promise.all(made.map((driver) => driver.close()));
  });
  const factories: [string, (options: never) => KVDriver][] = [
    ['createIoredisDriver', createIoredisDriver as (options: never) => KVDriver],
    ['createNodeRedisDriver', createNodeRedisDriver as (options: never) => KVDriver],
    ['createMemoryDriver', createMemoryDriver as (options: never) => KVDriver],
  ];

  it.each(factories)('%s names an unknown option instead of ignoring it', async (name, create) => {
    const error = await expectInvalid(() => made.push(create({ comandTimeoutMs: 100 } as never)));
    expect(error.message).toContain('"comandTimeoutMs"');
    expect(error.message).toContain(name);
  });

  it.each([
    ['a BigInt port', { port: 6379n }],
    ['a BigInt timeout', { commandTimeoutMs: 100n }],
    ['a circular url', { url: circular }],
    ['an object without a prototype as host', { host: noPrototype }],
    ['cluster nodes that are not an array', { cluster: { nodes: circular } }],
    ['a cluster node with a BigInt port', { cluster: { nodes: [{ host: '127.0.0.1', port: 7000n }] } }],
    ['a logger that is a string', { logger: 'console' }],
  ])('createIoredisDriver and createNodeRedisDriver refuse %s', async (_name, options) => {
    await expectInvalid(() => made.push(createIoredisDriver(options as never)));
    await expectInvalid(() => made.push(createNodeRedisDriver(options as never)));
  });

  it('getPooledDriver refuses a BigInt driver name, a circular one and unknown keys', async () => {
    await expectInvalid(() => getPooledDriver({ driver: 5n } as never));
    await expectInvalid(() => getPooledDriver({ driver: circular } as never));
    const error = await expectInvalid(() => getPooledDriver({ driver: 'memory', redisUrl: 'redis://x' } as never));
    expect(error.message).toContain('"redisUrl"');
  });

  it('memory drivers and servers refuse a clock without now() and a BigInt sweep interval', async () => {
    await expectInvalid(() => createMemoryDriver({ clock: {} as never }));
    await expectInvalid(() => createMemoryServer({ sweepIntervalMs: 10n as never }));
    await expectInvalid(() => createMemoryServer({ sweepEvery: 10 } as never));
  });

  it('defineScript refuses unknown keys', async () => {
    await expectInvalid(() => defineScript({ name: 's', lua: 'return 1', memory: () => 1, keys: 1 } as never));
  });
});
