import { randomBytes } from 'node:crypto';
import type { KVDriver } from '../driver.js';
import { defineScript } from '../script.js';
import { bytes, type SuiteContext } from './context.js';

/** WRONGTYPE mapping and the closed-client contract. */
export function registerErrors(c: SuiteContext): void {
  const { t } = c;
  c.it('commands against a key of another type reject with WRONG_TYPE', async () => {
    const keys = c.keys();
    const [str, list, hash, zset] = ['str', 'list', 'hash', 'zset'].map(keys.key) as [string, string, string, string];
    await c.driver().set(str, bytes('v'));
    await c.driver().rpush(list, [bytes('v')]);
    await c.driver().hset(hash, { f: bytes('v') });
    await c.driver().zadd(zset, [{ score: 1, member: 'm' }]);
    const d = (): KVDriver => c.driver();
    const attempts: [string, () => Promise<unknown>][] = [
      ['get on a list', () => d().get(list)],
      ['incrBy on a hash', () => d().incrBy(hash, 1)],
      ['rpush on a string', () => d().rpush(str, [bytes('x')])],
      ['lrange on a string', () => d().lrange(str, 0, -1)],
      ['llen on a sorted set', () => d().llen(zset)],
      ['ltrim on a hash', () => d().ltrim(hash, 0, 1)],
      ['hset on a list', () => d().hset(list, { f: bytes('x') })],
      ['hget on a string', () => d().hget(str, 'f')],
      ['hgetall on a list', () => d().hgetall(list)],
      ['hdel on a sorted set', () => d().hdel(zset, ['f'])],
      ['hincrBy on a string', () => d().hincrBy(str, 'f', 1)],
      ['zadd on a hash', () => d().zadd(hash, [{ score: 1, member: 'x' }])],
      ['zrangeByScore on a string', () => d().zrangeByScore(str, 0, 1)],
      ['zrem on a list', () => d().zrem(list, ['m'])],
      ['zcard on a hash', () => d().zcard(hash)],
    ];
    for (const [what, attempt] of attempts) {
      const error = await c.expectKVError(attempt, 'WRONG_TYPE');
      t.expect(error.message.length, `${what}: the error has a message`).toBeGreaterThan(0);
    }
    // Nothing was changed by the refused commands.
    c.expectBytes(await c.driver().get(str), 'v', 'string unchanged');
    t.expect(await c.driver().llen(list)).toBe(1);
  });
  c.it('await using closes the driver when its block ends', async () => {
    let escaped: KVDriver | undefined;
    {
      await using driver = await c.options.createDriver();
      escaped = driver;
      await driver.ping();
    }
    await c.expectKVError(() => escaped!.ping(), 'CLIENT_CLOSED');
  });
  c.it('a closed driver rejects every command with CLIENT_CLOSED and close() can be repeated', async () => {
    const driver = await c.options.createDriver();
    const k = c.keys().key('closed');
    await driver.set(k, bytes('v'));
    await driver.close();
    await driver.close();
    await c.expectKVError(() => driver.get(k), 'CLIENT_CLOSED');
    await c.expectKVError(() => driver.set(k, bytes('w')), 'CLIENT_CLOSED');
    await c.expectKVError(() => driver.mget([k]), 'CLIENT_CLOSED');
    await c.expectKVError(() => driver.ping(), 'CLIENT_CLOSED');
    await c.expectKVError(() => driver.rpush(k, [bytes('x')]), 'CLIENT_CLOSED');
    const script = defineScript({ name: 'closed', lua: 'return 1', memory: () => 1 });
    await c.expectKVError(() => driver.eval(script, [k], []), 'CLIENT_CLOSED');
    await c.expectKVError(() => {
      const b = driver.batch();
      void b.get(k).catch(() => undefined);
      return b.exec();
    }, 'CLIENT_CLOSED');
    await c.expectKVError(async () => {
      for await (const key of driver.scan({ match: '*' })) void key;
    }, 'CLIENT_CLOSED');
    // The data belongs to the server, not the client: the shared driver still sees it.
    c.expectBytes(await c.driver().get(k), 'v', 'value written before close');
  });
  c.it('KVError carries name and code', async () => {
    const k = c.keys().key('list');
    await c.driver().rpush(k, [bytes('v')]);
    const error = await c.expectKVError(() => c.driver().get(k), 'WRONG_TYPE');
    t.expect(error instanceof Error).toBe(true);
    t.expect(error.name).toBe('KVError');
  });
}

function allBytes(): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, i) => i);
}

/** Byte-exact storage, plain Uint8Array results, and copy semantics. */
export function registerBinary(c: SuiteContext): void {
  const { t } = c;
  c.it('every byte value 0..255 round-trips through strings, lists, hashes and mset/mget', async () => {
    const keys = c.keys();
    const value = allBytes();
    await c.driver().set(keys.key('s'), value);
    c.expectBytes(await c.driver().get(keys.key('s')), value, 'get');
    await c.driver().rpush(keys.key('l'), [value, value.subarray(128)]);
    const list = await c.driver().lrange(keys.key('l'), 0, -1);
    c.expectBytes(list[0], value, 'lrange[0]');
    c.expectBytes(list[1], value.subarray(128), 'lrange[1]');
    await c.driver().hset(keys.key('h'), { bin: value });
    c.expectBytes(await c.driver().hget(keys.key('h'), 'bin'), value, 'hget');
    c.expectBytes((await c.driver().hgetall(keys.key('h'))).bin, value, 'hgetall');
    await c.driver().mset([[keys.key('m'), value]]);
    c.expectBytes((await c.driver().mget([keys.key('m')]))[0], value, 'mget');
  });
  c.it('bytes that are invalid UTF-8 are not decoded or replaced', async () => {
    const k = c.keys().key('bad-utf8');
    const value = new Uint8Array([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe, 0xef, 0xbb, 0xbf]);
    await c.driver().set(k, value);
    c.expectBytes(await c.driver().get(k), value, 'get');
  });
  c.it('an empty value is stored and read back as an empty Uint8Array, not null', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('empty'), new Uint8Array(0));
    c.expectBytes(await c.driver().get(keys.key('empty')), new Uint8Array(0), 'get');
    await c.driver().rpush(keys.key('l'), [new Uint8Array(0)]);
    c.expectBytes((await c.driver().lrange(keys.key('l'), 0, 0))[0], new Uint8Array(0), 'lrange');
    await c.driver().hset(keys.key('h'), { f: new Uint8Array(0) });
    c.expectBytes(await c.driver().hget(keys.key('h'), 'f'), new Uint8Array(0), 'hget');
  });
  c.it('a 1 MiB random value round-trips', async () => {
    const k = c.keys().key('big');
    const value = new Uint8Array(randomBytes(1024 * 1024));
    await c.driver().set(k, value);
    c.expectBytes(await c.driver().get(k), value, 'get');
  });
  c.it('Buffer inputs and subarray views store exactly the viewed bytes and come back as plain Uint8Array', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('buf'), Buffer.from('from a buffer'));
    c.expectBytes(await c.driver().get(keys.key('buf')), 'from a buffer', 'get of a Buffer-written value');
    const backing = bytes('0123456789');
    await c.driver().set(keys.key('view'), backing.subarray(3, 7));
    c.expectBytes(await c.driver().get(keys.key('view')), '3456', 'get of a subarray-written value');
    await c.driver().rpush(keys.key('l'), [backing.subarray(8)]);
    c.expectBytes((await c.driver().lrange(keys.key('l'), 0, -1))[0], '89', 'lrange of a subarray-written value');
  });
  c.it('every byte-returning command returns plain Uint8Array, never Buffer', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('s'), bytes('v'));
    await c.driver().rpush(keys.key('l'), [bytes('v')]);
    await c.driver().hset(keys.key('h'), { f: bytes('v') });
    c.expectPlainBytes(await c.driver().get(keys.key('s')), 'get');
    c.expectPlainBytes((await c.driver().mget([keys.key('s')]))[0], 'mget');
    c.expectPlainBytes((await c.driver().lrange(keys.key('l'), 0, -1))[0], 'lrange');
    c.expectPlainBytes(await c.driver().hget(keys.key('h'), 'f'), 'hget');
    c.expectPlainBytes((await c.driver().hgetall(keys.key('h'))).f, 'hgetall');
  });
  c.it('a caller mutating its input after the call does not change the stored value', async () => {
    const keys = c.keys();
    const value = bytes('original');
    const pending = [
      c.driver().set(keys.key('s'), value),
      c.driver().rpush(keys.key('l'), [value]),
      c.driver().hset(keys.key('h'), { f: value }),
      c.driver().mset([[keys.key('m'), value]]),
    ];
    value.fill(0x2a);
    await Promise.all(pending);
    c.expectBytes(await c.driver().get(keys.key('s')), 'original', 'set');
    c.expectBytes((await c.driver().lrange(keys.key('l'), 0, -1))[0], 'original', 'rpush');
    c.expectBytes(await c.driver().hget(keys.key('h'), 'f'), 'original', 'hset');
    c.expectBytes(await c.driver().get(keys.key('m')), 'original', 'mset');
  });
  c.it('results of get, mget, lrange and hgetall are fresh copies', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('s'), bytes('abc'));
    await c.driver().rpush(keys.key('l'), [bytes('abc')]);
    await c.driver().hset(keys.key('h'), { f: bytes('abc') });
    (await c.driver().get(keys.key('s')))?.fill(0);
    (await c.driver().mget([keys.key('s')]))[0]?.fill(0);
    (await c.driver().lrange(keys.key('l'), 0, -1))[0]?.fill(0);
    (await c.driver().hgetall(keys.key('h'))).f?.fill(0);
    (await c.driver().hget(keys.key('h'), 'f'))?.fill(0);
    c.expectBytes(await c.driver().get(keys.key('s')), 'abc', 'get after mutating results');
    c.expectBytes((await c.driver().lrange(keys.key('l'), 0, -1))[0], 'abc', 'lrange after mutating results');
    c.expectBytes(await c.driver().hget(keys.key('h'), 'f'), 'abc', 'hget after mutating results');
    const [first, second] = await c.driver().mget([keys.key('s'), keys.key('s')]);
    first?.fill(0);
    c.expectBytes(second, 'abc', 'a repeated key in mget does not share memory');
    t.expect(first !== second).toBe(true);
  });
}
