import { isKVError } from '../shared/errors.js';
import { bytes, type SuiteContext } from './context.js';

const decoder = new TextDecoder();

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys;
}

/** SCAN with MATCH globs, COUNT hints and concurrent writes. */
export function registerScan(c: SuiteContext): void {
  const { t } = c;
  c.it('scan yields exactly the matching keys, across every slot', async () => {
    const keys = c.keys();
    const expected = Array.from({ length: 40 }, (_, i) => keys.loose(`s${i}`));
    await c.driver().mset(expected.map((k) => [k, bytes('v')] as const));
    await c.driver().set(`${keys.prefix}-not-matching`, bytes('v'));
    const found = await collect(c.driver().scan({ match: keys.loosePattern('*'), count: 7 }));
    t.expect([...new Set(found)].sort()).toEqual([...expected].sort());
    await c.driver().del([...expected, `${keys.prefix}-not-matching`]);
  });
  c.it('scan stops with the signal reason once its signal aborts, and refuses a signal that is not one', async () => {
    const keys = c.keys();
    const written = Array.from({ length: 60 }, (_, i) => keys.loose(`a${i}`));
    await c.driver().mset(written.map((k) => [k, bytes('v')] as const));
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const seen: string[] = [];
    let caught: unknown;
    try {
      for await (const key of c.driver().scan({ match: keys.loosePattern('*'), count: 5, signal: controller.signal })) {
        seen.push(key);
        if (seen.length === 3) controller.abort(reason);
      }
    } catch (error) {
      caught = error;
    }
    t.expect(caught).toBe(reason);
    t.expect(seen.length).toBeLessThan(written.length);
    caught = undefined;
    try {
      await collect(c.driver().scan({ match: keys.loosePattern('*'), signal: AbortSignal.abort(reason) }));
    } catch (error) {
      caught = error;
    }
    t.expect(caught).toBe(reason);
    await c.expectKVError(() => collect(c.driver().scan({ match: keys.loosePattern('*'), signal: {} as AbortSignal })), 'INVALID_ARGUMENT');
    await c.driver().del(written);
  });
  c.it('scan matches every key type', async () => {
    const keys = c.keys();
    await c.driver().set(keys.loose('str'), bytes('v'));
    await c.driver().rpush(keys.loose('list'), [bytes('v')]);
    await c.driver().hset(keys.loose('hash'), { f: bytes('v') });
    await c.driver().zadd(keys.loose('zset'), [{ score: 1, member: 'm' }]);
    const found = await collect(c.driver().scan({ match: keys.loosePattern('*') }));
    t.expect([...new Set(found)].sort()).toEqual(['hash', 'list', 'str', 'zset'].map(keys.loose).sort());
  });
  c.it('scan implements Redis glob syntax: ? [abc] [^a] [a-z] and \\ escapes', async () => {
    const keys = c.keys();
    const names = ['a1', 'b1', 'c2', 'ab', '[x]', '*star', '?q', 'hé', 'h\\'];
    await c.driver().mset(names.map((name) => [keys.loose(name), bytes('v')] as const));
    const cases: [string, string[]][] = [
      ['[ab]1', ['a1', 'b1']],
      ['[^a]1', ['b1']],
      ['[a-b]?', ['a1', 'ab', 'b1']],
      ['[b-a]1', ['a1', 'b1']],
      ['?1', ['a1', 'b1']],
      ['\\*star', ['*star']],
      ['\\?q', ['?q']],
      ['\\[x\\]', ['[x]']],
      ['[[]x]', ['[x]']],
      ['h??', ['hé']],
      ['h?', ['h\\']],
      ['h\\\\', ['h\\']],
      ['*1', ['a1', 'b1']],
      ['*', [...names]],
      ['c*2', ['c2']],
      ['zzz*', []],
    ];
    for (const [glob, expected] of cases) {
      const found = await collect(c.driver().scan({ match: keys.loosePattern(glob), count: 3 }));
      t.expect([...new Set(found)].sort(), `pattern ${glob}`).toEqual(expected.map(keys.loose).sort());
    }
  });
  c.it('scan returns every key that exists throughout, despite concurrent deletes and inserts', async () => {
    const keys = c.keys();
    const stable = Array.from({ length: 30 }, (_, i) => keys.loose(`stable-${i}`));
    const doomed = Array.from({ length: 30 }, (_, i) => keys.loose(`doomed-${i}`));
    await c.driver().mset([...stable, ...doomed].map((k) => [k, bytes('v')] as const));
    const seen = new Set<string>();
    let mutated = false;
    for await (const key of c.driver().scan({ match: keys.loosePattern('*'), count: 5 })) {
      seen.add(key);
      if (!mutated) {
        mutated = true;
        await c.driver().del(doomed);
        await c.driver().mset(Array.from({ length: 30 }, (_, i) => [keys.loose(`added-${i}`), bytes('v')] as const));
      }
    }
    for (const key of stable) t.expect(seen.has(key), `${key} was returned`).toBe(true);
    for (const key of seen) t.expect(key.startsWith(`${keys.prefix}:`), `${key} matches the pattern`).toBe(true);
  });
  c.it('scan does not return expired keys', async () => {
    const keys = c.keys();
    await c.driver().set(keys.loose('alive'), bytes('v'));
    await c.driver().set(keys.loose('dying'), bytes('v'), { ttlMs: 50 });
    await c.elapse(130);
    const found = await collect(c.driver().scan({ match: keys.loosePattern('*') }));
    t.expect(found).toEqual([keys.loose('alive')]);
  });
}

/** Pipelines and MULTI/EXEC transactions through `batch()`. */
export function registerBatch(c: SuiteContext): void {
  const { t } = c;
  for (const atomic of [false, true]) {
    const kind = atomic ? 'transaction' : 'pipeline';
    c.it(`${kind}: every command resolves with its own result, in order`, async () => {
      const keys = c.keys();
      const b = c.driver().batch({ atomic });
      const results = [
        b.set(keys.key('s'), bytes('v')),
        b.get(keys.key('s')),
        b.exists(keys.key('s')),
        b.incrBy(keys.key('n'), 5),
        b.pexpire(keys.key('n'), 60_000),
        b.pttl(keys.key('missing')),
        b.rpush(keys.key('l'), [bytes('a'), bytes('b'), bytes('c')]),
        b.ltrim(keys.key('l'), 1, -1),
        b.lrange(keys.key('l'), 0, -1),
        b.llen(keys.key('l')),
        b.hset(keys.key('h'), { f: bytes('1'), g: bytes('2') }),
        b.hget(keys.key('h'), 'f'),
        b.hdel(keys.key('h'), ['g']),
        b.hincrBy(keys.key('h'), 'f', 9),
        b.hgetall(keys.key('h')),
        b.zadd(keys.key('z'), [
          { score: 2, member: 'two' },
          { score: 1, member: 'one' },
        ]),
        b.zrangeByScore(keys.key('z'), 0, 10, { offset: 0, count: 10 }),
        b.zrem(keys.key('z'), ['one']),
        b.zcard(keys.key('z')),
        b.set(keys.key('s'), bytes('nope'), { mode: 'NX' }),
        b.del([keys.key('s'), keys.key('missing')]),
      ] as const;
      await b.exec();
      const [set, get, exists, incr, pexpire, pttl, rpush, ltrim, lrange, llen, hset, hget, hdel, hincr, hgetall, zadd, zrange, zrem, zcard, nx, del] =
        await Promise.all(results);
      t.expect(set).toBe(true);
      c.expectBytes(get, 'v', 'batch get');
      t.expect(exists).toBe(true);
      t.expect(incr).toBe(5);
      t.expect(pexpire).toBe(true);
      t.expect(pttl).toBe(-2);
      t.expect(rpush).toBe(3);
      t.expect(ltrim).toBe(undefined);
      t.expect(lrange.map((v) => decoder.decode(v))).toEqual(['b', 'c']);
      lrange.forEach((v, i) => c.expectPlainBytes(v, `batch lrange[${i}]`));
      t.expect(llen).toBe(2);
      t.expect(hset).toBe(2);
      c.expectBytes(hget, '1', 'batch hget');
      t.expect(hdel).toBe(1);
      t.expect(hincr).toBe(10);
      t.expect(Object.keys(hgetall)).toEqual(['f']);
      c.expectBytes(hgetall.f, '10', 'batch hgetall.f');
      t.expect(zadd).toBe(2);
      t.expect(zrange).toEqual(['one', 'two']);
      t.expect(zrem).toBe(1);
      t.expect(zcard).toBe(1);
      t.expect(nx).toBe(false);
      t.expect(del).toBe(1);
      t.expect(await c.driver().pttl(keys.key('n'))).toBeGreaterThan(30_000);
    });
    c.it(`${kind}: a failing command rejects its own promise and exec(), and the others still run`, async () => {
      const keys = c.keys();
      await c.driver().rpush(keys.key('list'), [bytes('x')]);
      const b = c.driver().batch({ atomic });
      const before = b.set(keys.key('before'), bytes('1'));
      const failing = b.incrBy(keys.key('list'), 1);
      const after = b.set(keys.key('after'), bytes('2'));
      // Only exec() is awaited first: a driver must not leave the failing promise unhandled.
      let execError: unknown;
      try {
        await b.exec();
      } catch (error) {
        execError = error;
      }
      t.expect(isKVError(execError), 'exec() rejects with a KVError').toBe(true);
      await c.expectKVError(() => failing, 'WRONG_TYPE');
      t.expect(await before).toBe(true);
      t.expect(await after).toBe(true);
      c.expectBytes(await c.driver().get(keys.key('after')), '2', 'command after the failure ran');
    });
    c.it(`${kind}: an empty batch executes`, async () => {
      await c.driver().batch({ atomic }).exec();
    });
    c.it(`${kind}: values queued are copied when queued`, async () => {
      const k = c.keys().key('copied');
      const value = bytes('original');
      const b = c.driver().batch({ atomic });
      const done = b.set(k, value);
      value.fill(0x21);
      await b.exec();
      await done;
      c.expectBytes(await c.driver().get(k), 'original', 'stored value');
    });
  }
  c.it('batch() defaults to a pipeline and is not visible before exec()', async () => {
    const k = c.keys().key('late');
    const b = c.driver().batch();
    const pending = b.set(k, bytes('v'));
    t.expect(await c.driver().exists(k)).toBe(false);
    await b.exec();
    t.expect(await pending).toBe(true);
    t.expect(await c.driver().exists(k)).toBe(true);
  });
}
