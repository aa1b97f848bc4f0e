import { bytes, type SuiteContext } from './context.js';

/** connect / ping / identity. */
export function registerLifecycle(c: SuiteContext): void {
  const { t } = c;
  c.it('connect() is safe to call twice and ping() answers', async () => {
    await c.driver().connect();
    await c.driver().connect();
    await c.driver().ping();
  });
  c.it('driverName is a non-empty string and isCluster matches the deployment', async () => {
    t.expect(typeof c.driver().driverName).toBe('string');
    t.expect(c.driver().driverName.length).toBeGreaterThan(0);
    t.expect(c.driver().isCluster).toBe(c.options.cluster === true);
  });
}

/** GET / SET (NX, XX) / EXISTS / DEL / MEMORY USAGE. */
export function registerStrings(c: SuiteContext): void {
  const { t } = c;
  c.it('get of a missing key is null', async () => {
    t.expect(await c.driver().get(c.keys().key('missing'))).toBeNull();
  });
  c.it('set then get returns the same bytes', async () => {
    const k = c.keys().key('a');
    t.expect(await c.driver().set(k, bytes('hello'))).toBe(true);
    c.expectBytes(await c.driver().get(k), 'hello', 'get');
  });
  c.it('set overwrites a value and removes its TTL', async () => {
    const k = c.keys().key('a');
    await c.driver().set(k, bytes('one'), { ttlMs: 60_000 });
    await c.driver().set(k, bytes('two'));
    c.expectBytes(await c.driver().get(k), 'two', 'get');
    t.expect(await c.driver().pttl(k)).toBe(-1);
  });
  c.it('set NX writes a missing key and refuses an existing one', async () => {
    const k = c.keys().key('nx');
    t.expect(await c.driver().set(k, bytes('first'), { mode: 'NX' })).toBe(true);
    t.expect(await c.driver().set(k, bytes('second'), { mode: 'NX' })).toBe(false);
    c.expectBytes(await c.driver().get(k), 'first', 'get after refused NX');
  });
  c.it('set XX refuses a missing key and replaces an existing one', async () => {
    const k = c.keys().key('xx');
    t.expect(await c.driver().set(k, bytes('ghost'), { mode: 'XX' })).toBe(false);
    t.expect(await c.driver().exists(k)).toBe(false);
    await c.driver().set(k, bytes('old'));
    t.expect(await c.driver().set(k, bytes('new'), { mode: 'XX' })).toBe(true);
    c.expectBytes(await c.driver().get(k), 'new', 'get after XX');
  });
  c.it('set NX with a TTL applies the TTL', async () => {
    const k = c.keys().key('nxttl');
    t.expect(await c.driver().set(k, bytes('v'), { mode: 'NX', ttlMs: 30_000 })).toBe(true);
    const ttl = await c.driver().pttl(k);
    t.expect(ttl).toBeGreaterThan(20_000);
    t.expect(ttl).toBeLessThanOrEqual(30_000);
  });
  c.it('set replaces a key of another type', async () => {
    const k = c.keys().key('typed');
    await c.driver().rpush(k, [bytes('x')]);
    t.expect(await c.driver().set(k, bytes('now a string'))).toBe(true);
    c.expectBytes(await c.driver().get(k), 'now a string', 'get');
  });
  c.it('exists and del count only existing keys', async () => {
    const keys = c.keys();
    const [a, b, missing] = [keys.key('a'), keys.key('b'), keys.key('missing')];
    await c.driver().set(a, bytes('1'));
    await c.driver().hset(b, { f: bytes('2') });
    t.expect(await c.driver().exists(a)).toBe(true);
    t.expect(await c.driver().exists(b)).toBe(true);
    t.expect(await c.driver().exists(missing)).toBe(false);
    t.expect(await c.driver().del([a, b, missing, a])).toBe(2);
    t.expect(await c.driver().exists(a)).toBe(false);
    t.expect(await c.driver().exists(b)).toBe(false);
  });
  c.it('del of no keys is 0', async () => {
    t.expect(await c.driver().del([])).toBe(0);
  });
  c.it('memoryUsage is null for a missing key and at least the value size for a present one', async () => {
    const k = c.keys().key('big');
    t.expect(await c.driver().memoryUsage(k)).toBeNull();
    await c.driver().set(k, new Uint8Array(4000).fill(7));
    const usage = await c.driver().memoryUsage(k);
    t.expect(typeof usage).toBe('number');
    t.expect(usage as number).toBeGreaterThanOrEqual(4000);
    t.expect(usage as number).toBeLessThan(64 * 1024);
  });
}

/** PX / PEXPIRE / PTTL; waits use `elapse`, so an injected clock avoids sleeping. */
export function registerTtl(c: SuiteContext): void {
  const { t } = c;
  c.it('pttl is -2 for a missing key and -1 for a key without TTL', async () => {
    const keys = c.keys();
    t.expect(await c.driver().pttl(keys.key('missing'))).toBe(-2);
    await c.driver().set(keys.key('plain'), bytes('v'));
    t.expect(await c.driver().pttl(keys.key('plain'))).toBe(-1);
  });
  c.it('set with ttlMs reports the remaining TTL in milliseconds', async () => {
    const k = c.keys().key('ttl');
    await c.driver().set(k, bytes('v'), { ttlMs: 5000 });
    const ttl = await c.driver().pttl(k);
    t.expect(ttl).toBeGreaterThan(3000);
    t.expect(ttl).toBeLessThanOrEqual(5000);
    c.expectBytes(await c.driver().get(k), 'v', 'get before expiry');
  });
  c.it('a key set with ttlMs is gone after the TTL passed', async () => {
    const keys = c.keys();
    const short = keys.key('short');
    const long = keys.key('long');
    await c.driver().set(short, bytes('v'), { ttlMs: 60 });
    await c.driver().set(long, bytes('w'), { ttlMs: 60_000 });
    await c.elapse(140);
    t.expect(await c.driver().get(short)).toBeNull();
    t.expect(await c.driver().exists(short)).toBe(false);
    t.expect(await c.driver().pttl(short)).toBe(-2);
    c.expectBytes(await c.driver().get(long), 'w', 'a longer-lived key survives');
  });
  c.it('pexpire sets a TTL on existing keys of every type and is false for a missing key', async () => {
    const keys = c.keys();
    t.expect(await c.driver().pexpire(keys.key('missing'), 1000)).toBe(false);
    await c.driver().rpush(keys.key('list'), [bytes('a')]);
    await c.driver().hset(keys.key('hash'), { f: bytes('b') });
    await c.driver().zadd(keys.key('zset'), [{ score: 1, member: 'm' }]);
    await c.driver().set(keys.key('string'), bytes('s'));
    for (const name of ['list', 'hash', 'zset', 'string']) {
      t.expect(await c.driver().pexpire(keys.key(name), 60), `pexpire ${name}`).toBe(true);
      const ttl = await c.driver().pttl(keys.key(name));
      t.expect(ttl, `pttl ${name}`).toBeGreaterThan(0);
      t.expect(ttl, `pttl ${name}`).toBeLessThanOrEqual(60);
    }
    await c.elapse(140);
    for (const name of ['list', 'hash', 'zset', 'string']) {
      t.expect(await c.driver().exists(keys.key(name)), `${name} expired`).toBe(false);
    }
    t.expect(await c.driver().llen(keys.key('list'))).toBe(0);
    t.expect(await c.driver().hgetall(keys.key('hash'))).toEqual({});
    t.expect(await c.driver().zcard(keys.key('zset'))).toBe(0);
  });
  c.it('pexpire with a TTL of 0 deletes the key', async () => {
    const k = c.keys().key('zero');
    await c.driver().set(k, bytes('v'));
    t.expect(await c.driver().pexpire(k, 0)).toBe(true);
    t.expect(await c.driver().exists(k)).toBe(false);
  });
  c.it('incrBy and rpush keep the TTL of an existing key', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('n'), bytes('1'), { ttlMs: 60_000 });
    await c.driver().incrBy(keys.key('n'), 1);
    t.expect(await c.driver().pttl(keys.key('n'))).toBeGreaterThan(30_000);
    await c.driver().rpush(keys.key('l'), [bytes('a')]);
    await c.driver().pexpire(keys.key('l'), 60_000);
    await c.driver().rpush(keys.key('l'), [bytes('b')]);
    t.expect(await c.driver().pttl(keys.key('l'))).toBeGreaterThan(30_000);
  });
  c.it('an expired key can be written again with NX', async () => {
    const k = c.keys().key('again');
    await c.driver().set(k, bytes('old'), { ttlMs: 50 });
    await c.elapse(130);
    t.expect(await c.driver().set(k, bytes('new'), { mode: 'NX' })).toBe(true);
    c.expectBytes(await c.driver().get(k), 'new', 'get');
    t.expect(await c.driver().pttl(k)).toBe(-1);
  });
}

/** MGET / MSET, including keys that span cluster slots. */
export function registerMultiKey(c: SuiteContext): void {
  const { t } = c;
  c.it('mget returns values in key order with null for missing and non-string keys', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('a'), bytes('A'));
    await c.driver().set(keys.key('c'), bytes('C'));
    await c.driver().rpush(keys.key('list'), [bytes('x')]);
    const values = await c.driver().mget([keys.key('a'), keys.key('b'), keys.key('c'), keys.key('list'), keys.key('a')]);
    t.expect(values).toHaveLength(5);
    c.expectBytes(values[0], 'A', 'mget[0]');
    t.expect(values[1]).toBeNull();
    c.expectBytes(values[2], 'C', 'mget[2]');
    t.expect(values[3]).toBeNull();
    c.expectBytes(values[4], 'A', 'mget[4] (repeated key)');
  });
  c.it('mget of no keys is an empty array and mset of no entries is a no-op', async () => {
    t.expect(await c.driver().mget([])).toEqual([]);
    await c.driver().mset([]);
  });
  c.it('mset writes every entry from any iterable', async () => {
    const keys = c.keys();
    const entries = new Map<string, Uint8Array>([
      [keys.key('x'), bytes('1')],
      [keys.key('y'), bytes('2')],
    ]);
    await c.driver().mset(entries);
    c.expectBytes(await c.driver().get(keys.key('x')), '1', 'x');
    c.expectBytes(await c.driver().get(keys.key('y')), '2', 'y');
    t.expect(await c.driver().pttl(keys.key('x'))).toBe(-1);
  });
  c.it('mset with ttlMs gives every key the TTL and they expire', async () => {
    const keys = c.keys();
    await c.driver().mset(
      (function* () {
        yield [keys.key('p'), bytes('1')] as const;
        yield [keys.key('q'), bytes('2')] as const;
      })(),
      // Long enough that a loaded machine cannot let the keys expire before pttl reads them.
      { ttlMs: 1000 },
    );
    for (const name of ['p', 'q']) {
      const ttl = await c.driver().pttl(keys.key(name));
      t.expect(ttl, `pttl ${name}`).toBeGreaterThan(0);
      t.expect(ttl, `pttl ${name}`).toBeLessThanOrEqual(1000);
    }
    await c.elapse(1100);
    t.expect(await c.driver().mget([keys.key('p'), keys.key('q')])).toEqual([null, null]);
  });
  c.it('mset, mget and del work on keys spread over many slots', async () => {
    const keys = c.keys();
    const names = Array.from({ length: 24 }, (_, i) => keys.loose(`spread-${i}`));
    await c.driver().mset(names.map((k, i) => [k, bytes(`v${i}`)] as const));
    const missing = keys.loose('spread-missing');
    const values = await c.driver().mget([...names.slice(0, 12), missing, ...names.slice(12)]);
    t.expect(values).toHaveLength(25);
    values.forEach((value, i) => {
      if (i === 12) t.expect(value).toBeNull();
      else c.expectBytes(value, `v${i < 12 ? i : i - 1}`, `mget[${i}]`);
    });
    t.expect(await c.driver().del([...names, missing])).toBe(24);
    t.expect(await c.driver().mget(names)).toEqual(names.map(() => null));
  });
  c.it('mset with ttlMs across many slots gives every key the TTL', async () => {
    const keys = c.keys();
    const names = Array.from({ length: 12 }, (_, i) => keys.loose(`spread-ttl-${i}`));
    await c.driver().mset(
      names.map((k) => [k, bytes('v')] as const),
      { ttlMs: 60_000 },
    );
    for (const k of names) t.expect(await c.driver().pttl(k)).toBeGreaterThan(30_000);
    t.expect(await c.driver().del(names)).toBe(12);
  });
}

/** INCRBY / HINCRBY arithmetic and its errors. */
export function registerCounters(c: SuiteContext): void {
  const { t } = c;
  c.it('incrBy creates a missing key and stores decimal text', async () => {
    const k = c.keys().key('n');
    t.expect(await c.driver().incrBy(k, 5)).toBe(5);
    t.expect(await c.driver().incrBy(k, -8)).toBe(-3);
    c.expectBytes(await c.driver().get(k), '-3', 'stored text');
  });
  c.it('incrBy adds to an integer stored by set', async () => {
    const k = c.keys().key('n');
    await c.driver().set(k, bytes('10'));
    t.expect(await c.driver().incrBy(k, 32)).toBe(42);
  });
  c.it('incrBy is exact up to 2^53 and beyond it fails only on 64-bit overflow', async () => {
    const keys = c.keys();
    await c.driver().set(keys.key('big'), bytes('9007199254740990'));
    t.expect(await c.driver().incrBy(keys.key('big'), 1)).toBe(9007199254740991);
    await c.driver().set(keys.key('max'), bytes('9223372036854775807'));
    await c.expectKVError(() => c.driver().incrBy(keys.key('max'), 1), 'COMMAND_FAILED');
    c.expectBytes(await c.driver().get(keys.key('max')), '9223372036854775807', 'unchanged after overflow');
  });
  c.it('incrBy on a non-integer value fails with COMMAND_FAILED and leaves it unchanged', async () => {
    const keys = c.keys();
    for (const text of ['abc', '1.5', ' 1', '01', '']) {
      const k = keys.key(`bad-${text}`);
      await c.driver().set(k, bytes(text));
      await c.expectKVError(() => c.driver().incrBy(k, 1), 'COMMAND_FAILED');
      c.expectBytes(await c.driver().get(k), text, `value ${JSON.stringify(text)} unchanged`);
    }
  });
  c.it('hincrBy creates the field, adds, and rejects a non-integer field with COMMAND_FAILED', async () => {
    const k = c.keys().key('h');
    t.expect(await c.driver().hincrBy(k, 'hits', 2)).toBe(2);
    t.expect(await c.driver().hincrBy(k, 'hits', 3)).toBe(5);
    c.expectBytes(await c.driver().hget(k, 'hits'), '5', 'stored text');
    await c.driver().hset(k, { word: bytes('many') });
    await c.expectKVError(() => c.driver().hincrBy(k, 'word', 1), 'COMMAND_FAILED');
  });
}
