import { startRedisServer, uniquePrefix, type RedisServerHandle } from '@lix/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isKVError } from './shared/errors.js';
import { closeAllPooledDrivers, getPooledDriver, pooledDriverCount, pooledDriverKey } from './pool.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Client connections the server sees, without the redis-cli asking. */
async function connections(server: RedisServerHandle): Promise<number> {
  const list = await server.cli('client', 'list');
  return list.split('\n').filter((line) => line.includes('addr=') && !line.includes('cmd=client')).length;
}

describe.each(['ioredis', 'node-redis'] as const)('pooled %s drivers', (kind) => {
  let server: RedisServerHandle;
  beforeAll(async () => {
    server = await startRedisServer({ password: 'pool-pw' });
  });
  afterEach(async () => {
    await closeAllPooledDrivers();
  });
  afterAll(async () => {
    await server.stop();
  });
  const options = (extra: Record<string, unknown> = {}) => ({ driver: kind, host: server.host, port: server.port, password: 'pool-pw', ...extra });

  it('shares one connection per (address, db, user, password) and closes it with the last release', async () => {
    const first = getPooledDriver(options());
    const second = getPooledDriver(options());
    const otherDb = getPooledDriver(options({ db: 1 }));
    expect(first.poolKey).toBe(second.poolKey);
    expect(otherDb.poolKey).not.toBe(first.poolKey);
    const key = `${uniquePrefix()}:k`;
    await first.set(key, bytes('shared'));
    expect(await second.get(key)).toEqual(bytes('shared'));
    expect(await otherDb.get(key)).toBeNull();
    expect(await connections(server)).toBe(2);
    expect(pooledDriverCount()).toBe(2);

    await first.release();
    await first.release();
    expect(await second.get(key)).toEqual(bytes('shared'));
    await expect(first.get(key)).rejects.toSatisfy((error: unknown) => isKVError(error, 'CLIENT_CLOSED'));
    await second.close();
    expect(pooledDriverCount()).toBe(1);
    expect(await connections(server)).toBe(1);
    await otherDb.release();
    expect(await connections(server)).toBe(0);
  });

  it('never shares a connection across passwords, and a wrong password is AUTH_FAILED', async () => {
    const wrong = getPooledDriver(options({ password: 'not-it' }));
    const right = getPooledDriver(options());
    expect(wrong.poolKey).not.toBe(right.poolKey);
    expect(wrong.poolKey).not.toContain('not-it');
    await expect(wrong.ping()).rejects.toSatisfy((error: unknown) => isKVError(error, 'AUTH_FAILED'));
    await expect(getPooledDriver(options({ password: undefined })).get('k')).rejects.toSatisfy((error: unknown) => isKVError(error, 'AUTH_FAILED'));
    await right.ping();
  });

  it('closeAllPooledDrivers closes every shared connection', async () => {
    const handle = getPooledDriver(options());
    await handle.ping();
    getPooledDriver(options({ db: 2 }));
    await closeAllPooledDrivers();
    expect(pooledDriverCount()).toBe(0);
    await expect(handle.ping()).rejects.toSatisfy((error: unknown) => isKVError(error, 'CLIENT_CLOSED'));
    expect(await connections(server)).toBe(0);
  });
});

describe('pooled drivers', () => {
  afterEach(async () => {
    await closeAllPooledDrivers();
  });

  it('shares one in-memory keyspace per db', async () => {
    const a = getPooledDriver({ driver: 'memory' });
    const b = getPooledDriver({ driver: 'memory' });
    await a.set('k', bytes('v'));
    expect(await b.get('k')).toEqual(bytes('v'));
    expect(await getPooledDriver({ driver: 'memory', db: 1 }).get('k')).toBeNull();
  });

  it('keys clusters by their sorted seed nodes and refuses a db other than 0 there', () => {
    const nodes = [
      { host: '10.0.0.2', port: 7001 },
      { host: '10.0.0.1', port: 7000 },
    ];
    expect(pooledDriverKey({ driver: 'ioredis', cluster: { nodes } })).toBe(pooledDriverKey({ driver: 'ioredis', cluster: { nodes: [...nodes].reverse() } }));
    expect(() => pooledDriverKey({ driver: 'node-redis', cluster: { nodes }, db: 1 })).toThrow(/only has db 0/);
    expect(() => pooledDriverKey({ driver: 'redis' as 'ioredis' })).toThrow(/driver must be/);
  });
});
